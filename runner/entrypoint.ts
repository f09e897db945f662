/**
 * The in-sandbox entrypoint: imports the app bundle once, then runs inputs
 * that the worker sends over the unix socket, `concurrency` at a time.
 *
 * Usage: entrypoint.js <socket-path> <bundle-url> <app-name>
 *
 * It speaks to the SDK copy inside the bundle only through the runtime
 * object on `globalThis[Symbol.for("nano-modal.runtime")]` (the contract in proto/runtime.ts).
 */
import { decodeValue, encodeValue } from "../proto/payload.ts";
import type { Runtime } from "../proto/runtime.ts";
import { type ErrorDescription, FrameWriter, readFrames, syncMarker } from "./_protocol.ts";
import { WebInputs } from "./_web_input.ts";

function describe(err: unknown): ErrorDescription {
  if (err instanceof Error) {
    let value: Uint8Array | undefined;
    try {
      value = encodeValue(err);
    } catch {
      value = undefined;
    }
    return { name: err.name, message: err.message, stack: userFrames(err.stack ?? ""), value };
  }
  let text: string;
  try {
    text = typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
  } catch {
    text = String(err);
  }
  return { name: "Error", message: `Uncaught non-Error value: ${text}`, stack: "" };
}

/** Drops the entrypoint's own frames: the caller wants to see only their code. */
function userFrames(stack: string): string {
  const self = import.meta.url;
  return stack.split("\n").filter((line) => !line.includes(self)).join("\n");
}

/**
 * Notes when user code writes output, so results are sent only after that
 * output (see `DoneMessage.sync`). Console methods and Deno.stdout/stderr
 * cover what programs use.
 */
let wroteOutput = false;
let syncSeq = 0;
function watchOutput(): void {
  const c = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (
    const name of [
      "log",
      "info",
      "debug",
      "warn",
      "error",
      "trace",
      "table",
      "dir",
      "dirxml",
      "assert",
      "count",
      "timeEnd",
      "timeLog",
      "group",
    ]
  ) {
    const original = c[name];
    if (typeof original !== "function") continue;
    c[name] = function (this: unknown, ...args: unknown[]) {
      wroteOutput = true;
      return original.apply(this, args);
    };
  }
  for (const stream of [Deno.stdout, Deno.stderr]) {
    const { write, writeSync } = stream;
    stream.write = (p) => (wroteOutput = true, write.call(stream, p));
    stream.writeSync = (p) => (wroteOutput = true, writeSync.call(stream, p));
  }
}

/** Writes sync markers if output happened since the last result; returns their number. */
function syncOutput(): number | undefined {
  if (!wroteOutput) return undefined;
  wroteOutput = false;
  const marker = new TextEncoder().encode(syncMarker(++syncSeq));
  try {
    Deno.stdout.writeSync(marker);
    Deno.stderr.writeSync(marker);
  } catch {
    return undefined;
  }
  wroteOutput = false;
  return syncSeq;
}

async function main(): Promise<void> {
  const [socketPath, bundleUrl, appName] = Deno.args;
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  const writer = new FrameWriter(conn);

  const key = Symbol.for("nano-modal.runtime");
  const g = globalThis as unknown as Record<symbol, Runtime>;
  g[key] = { mode: "container", apps: [] };
  watchOutput();
  let functions: ReadonlyMap<string, (...args: unknown[]) => unknown>;
  try {
    await import(bundleUrl);
    const app = g[key].apps.find((a) => a.name === appName);
    if (!app) throw new Error(`The bundle defines no app named "${appName}"`);
    functions = app.functions;
  } catch (err) {
    writer.send({ t: "init-failed", error: describe(err) });
    await writer.close();
    Deno.exit(3);
  }
  writer.send({ t: "ready", functions: [...functions.keys()] });

  const web = new WebInputs((msg) => writer.send(msg));
  const run = async (id: string, fnName: string, args: Uint8Array, isWeb?: boolean) => {
    const started = performance.now();
    try {
      const fn = functions.get(fnName);
      if (!fn) throw new Error(`No function "${fnName}" in app "${appName}"`);
      const result = isWeb
        ? await web.run(id, fn, args)
        : await fn(...decodeValue(args) as unknown[]);
      let payload: Uint8Array;
      try {
        payload = encodeValue(result, "result");
      } catch (err) {
        throw new TypeError(
          `${fnName} returned a value that cannot be sent back: ${(err as Error).message}`,
        );
      }
      const ms = performance.now() - started;
      writer.send({ t: "done", id, ok: true, payload, ms, sync: syncOutput() });
    } catch (err) {
      const ms = performance.now() - started;
      writer.send({ t: "done", id, ok: false, error: describe(err), ms, sync: syncOutput() });
    }
  };

  for await (const batch of readFrames(conn)) {
    for (const msg of batch) {
      if (msg.t === "run") run(msg.id, msg.fn, msg.args, msg.web);
      else if (msg.t === "body") web.body(msg);
    }
  }
  // The worker closed the socket: it wants this sandbox gone. Apps may
  // have hooks to run first (a class's @exit); the worker bounds their time.
  await Promise.allSettled(g[key].apps.map((a) => a.shutdown?.()));
  Deno.exit(0);
}

globalThis.addEventListener("unhandledrejection", (e) => {
  // A stray promise in user code must not take down other inputs.
  e.preventDefault();
  console.error("Unhandled promise rejection:", e.reason);
});

await main();

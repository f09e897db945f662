/**
 * The in-sandbox entrypoint: imports the app bundle once, then runs inputs
 * that the worker sends over the unix socket, `concurrency` at a time.
 *
 * Usage: entrypoint.js <socket-path> <bundle-url> <app-name>
 *
 * It speaks to the SDK copy inside the bundle only through the runtime
 * object on `globalThis[Symbol.for("nano-modal.runtime")]` (the contract in proto/runtime.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { decodeValue, encodeValue } from "../proto/payload.ts";
import type { Runtime } from "../proto/runtime.ts";
import { type ErrorDescription, FrameWriter, readFrames, syncMarker } from "./_protocol.ts";

function describe(err: unknown): ErrorDescription {
  // A nested call's error passes through as the original one, not wrapped once per level.
  const remote = err as { name?: string; remoteName?: string; remoteMessage?: string };
  if (remote?.name === "RemoteError" && typeof remote.remoteName === "string") {
    const e = err as Error;
    return {
      name: remote.remoteName,
      message: remote.remoteMessage ?? e.message,
      stack: userFrames(e.stack ?? ""),
    };
  }
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
  return stack.split("\n").filter((line) =>
    !line.includes(self) && !line.includes("AsyncLocalStorage.run (ext:")
  ).join("\n");
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
  // Calls user code makes go out as the input whose async context makes them.
  const current = new AsyncLocalStorage<string>();
  const pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  let nextId = 0;
  const nested = (method: string, req: Record<string, unknown>) => {
    const input = current.getStore();
    if (!input) {
      return Promise.reject(
        Object.assign(new Error("Calls from a function must be made while it runs an input"), {
          codeName: "FailedPrecondition",
        }),
      );
    }
    const id = ++nextId;
    const reply = Promise.withResolvers<Record<string, unknown>>();
    pending.set(id, reply);
    writer.send({ t: "nested", id, input, method, req });
    return reply.promise;
  };
  g[key] = { mode: "container", apps: [], nested };
  watchOutput();
  let functions: ReadonlyMap<string, (...args: unknown[]) => unknown>;
  try {
    await import(bundleUrl);
    // An app deployed under another name (`deploy --name`) is the bundle's only app.
    const apps = g[key].apps;
    const app = apps.find((a) => a.name === appName) ?? (apps.length === 1 ? apps[0] : undefined);
    if (!app) throw new Error(`The bundle defines no app named "${appName}"`);
    functions = app.functions;
  } catch (err) {
    writer.send({ t: "init-failed", error: describe(err) });
    await writer.close();
    Deno.exit(3);
  }
  writer.send({ t: "ready", functions: [...functions.keys()] });

  const run = async (id: string, fnName: string, args: Uint8Array) => {
    const started = performance.now();
    try {
      const fn = functions.get(fnName);
      if (!fn) throw new Error(`No function "${fnName}" in app "${appName}"`);
      const argList = decodeValue(args) as unknown[];
      const result = await fn(...argList);
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
      if (msg.t === "run") current.run(msg.id, () => run(msg.id, msg.fn, msg.args));
      else if (msg.t === "nested-reply") {
        const reply = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) {
          reply?.reject(Object.assign(new Error(msg.error.message), { codeName: msg.error.code }));
        } else reply?.resolve(msg.res ?? {});
      }
    }
  }
  // The worker closed the socket: it wants this sandbox gone.
  Deno.exit(0);
}

globalThis.addEventListener("unhandledrejection", (e) => {
  // A stray promise in user code must not take down other inputs.
  e.preventDefault();
  console.error("Unhandled promise rejection:", e.reason);
});

await main();

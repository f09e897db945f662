/**
 * The in-sandbox entrypoint: imports the app bundle once, then runs inputs
 * that the worker sends over the unix socket, `concurrency` at a time.
 *
 * Usage: entrypoint.js <socket-path> <bundle-url> <app-name>
 *
 * It speaks to the SDK copy inside the bundle only through the runtime
 * object on `globalThis[Symbol.for("nano-modal.runtime")]` (see sdk/_runtime.ts).
 */
import { decodeValue, encodeValue } from "../proto/payload.ts";
import { type ErrorDescription, FrameWriter, readFrames } from "./_protocol.ts";

interface RuntimeView {
  mode?: string;
  apps: { name: string; functions: ReadonlyMap<string, (...args: unknown[]) => unknown> }[];
}

function describe(err: unknown): ErrorDescription {
  if (err instanceof Error) {
    let value: Uint8Array | undefined;
    try {
      value = encodeValue(err);
    } catch {
      value = undefined;
    }
    return { name: err.name, message: err.message, stack: err.stack ?? "", value };
  }
  let text: string;
  try {
    text = typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
  } catch {
    text = String(err);
  }
  return { name: "Error", message: `Uncaught non-Error value: ${text}`, stack: "" };
}

async function main(): Promise<void> {
  const [socketPath, bundleUrl, appName] = Deno.args;
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  const writer = new FrameWriter(conn.writable);

  const key = Symbol.for("nano-modal.runtime");
  const g = globalThis as unknown as Record<symbol, RuntimeView>;
  g[key] = { mode: "container", apps: [] };
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
        throw new TypeError(`${fnName} returned a value that cannot be sent back: ${(err as Error).message}`);
      }
      writer.send({ t: "done", id, ok: true, payload, ms: performance.now() - started });
    } catch (err) {
      writer.send({ t: "done", id, ok: false, error: describe(err), ms: performance.now() - started });
    }
  };

  for await (const batch of readFrames(conn.readable)) {
    for (const msg of batch) {
      if (msg.t === "run") run(msg.id, msg.fn, msg.args);
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

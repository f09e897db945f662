/**
 * The in-sandbox entrypoint: imports the app bundle once, then runs inputs
 * that the worker sends over the unix socket, `concurrency` at a time.
 *
 * Usage: entrypoint.js <socket-path> <bundle-url> <app-name>
 *          [--lifeline-stdin] [--spare [--sdk] | --spare-file]
 *
 * With `--lifeline-stdin` a helper thread ends the process when stdin closes
 * (its worker died), even while user code spins on the main thread.
 *
 * With `--spare` (a spare deno sandbox, see runner/_spare.ts) it starts
 * before there is an app: loaded, it waits for one line on stdin naming the
 * app (`{"appName":...}`), by when its socket and bundle are in place. With
 * `--sdk` it loads `sdk.js` beside its bundle first (proto/bundle_format.ts's
 * `SDK_FILE`): the SDK its bundle will begin with, split off by the runner.
 * With `--spare-file` (a spare container, see runner/docker/_spare.ts) it
 * waits instead for `SPARE_ASSIGN_FILE` (`_protocol.ts`) to appear beside its socket,
 * which leaves stdin to the lifeline.
 *
 * It speaks to the SDK copy inside the bundle only through the runtime
 * object on `globalThis[Symbol.for("nano-modal.runtime")]` (the contract in proto/runtime.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { decodeValue, encodeValue } from "../proto/payload.ts";
import { isThenable } from "../proto/thenable.ts";
import type { Runtime } from "../proto/runtime.ts";
import {
  type ErrorDescription,
  FrameWriter,
  MAX_RESULT_BYTES,
  readFrames,
  type RunMessage,
  SPARE_ASSIGN_FILE,
  syncMarker,
} from "./_protocol.ts";
import { describeError, resultTooLarge } from "./_entrypoint_errors.ts";
import { WebInputs } from "./_web_input.ts";

const describe = (err: unknown) => describeError(err, import.meta.url);
const tooLarge = resultTooLarge;

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

/** The real `Deno.exit`, before user code can replace it (or we do). */
const exitProcess: (code?: number) => never = Deno.exit.bind(Deno);

/** Inputs running now, by id, with their function's name. */
const running = new Map<string, string>();
let writer: FrameWriter | undefined;
let ready = false;
let ending = false;

/**
 * Ends the sandbox because user code ended it: the worker fails the inputs
 * running here with `error`, as their function's own failure.
 */
async function endByUser(error: ErrorDescription, code: number): Promise<never> {
  if (!ending) {
    ending = true;
    if (!ready) writer?.send({ t: "init-failed", error });
    else writer?.send({ t: "fatal", error });
    await writer?.close();
  }
  return exitProcess(code);
}

/** `Deno.exit` (and `process.exit`, which calls it) from user code. */
function exitByUser(code?: number): never {
  const n = typeof code === "number" ? code : 0;
  const names = [...new Set(running.values())].join(", ") || "the app";
  endByUser({
    name: "SandboxExitError",
    message:
      `${names} called Deno.exit(${n}), which ends its sandbox: return a value or throw instead`,
    stack: "",
  }, n);
  // Callers expect exit() never to return: stop this task here.
  throw new Error("nano-modal: the sandbox is exiting");
}

/** A helper thread that ends the process once stdin closes (the worker is gone). */
function watchLifeline(): void {
  const source = `for await (const _ of Deno.stdin.readable) {} Deno.kill(Deno.pid, "SIGKILL");`;
  new Worker(`data:application/javascript,${encodeURIComponent(source)}`, { type: "module" });
}

/** A spare container's app, once the worker writes {@linkcode SPARE_ASSIGN_FILE} in `dir`. */
async function spareFileAssignment(dir: string): Promise<{ appName: string }> {
  const path = `${dir}/${SPARE_ASSIGN_FILE}`;
  // Watched before the first look: a file written in between is still seen. A look every
  // quarter second too, where the host's writes raise no event in here (no inotify left).
  let watcher: Deno.FsWatcher | undefined;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch {
    // Looks only.
  }
  const events = watcher?.[Symbol.asyncIterator]();
  // A watcher that fails is one that ended: the looks go on.
  const next = () =>
    events!.next().catch((): IteratorResult<Deno.FsEvent> => ({ done: true, value: undefined }));
  let event = events && next();
  try {
    while (true) {
      try {
        return JSON.parse(await Deno.readTextFile(path));
      } catch {
        // Not there yet.
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<"tick">((r) => timer = setTimeout(() => r("tick"), 250));
      const woke = await Promise.race([event ?? tick, tick]);
      clearTimeout(timer);
      if (woke !== "tick") event = woke.done ? undefined : next();
    }
  } finally {
    watcher?.close();
  }
}

/** A spare sandbox's app, once the worker gives it one (ends the process if none comes). */
async function spareAssignment(): Promise<{ appName: string }> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of Deno.stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    const end = text.indexOf("\n");
    if (end >= 0) return JSON.parse(text.slice(0, end));
  }
  return exitProcess(0); // not needed after all
}

async function main(): Promise<void> {
  const [socketPath, bundleUrl, ...rest] = Deno.args;
  let [appName, ...flags] = rest;
  if (flags.includes("--lifeline-stdin")) watchLifeline();
  if (flags.includes("--sdk")) {
    // The runner gives this spare only a bundle that imports this module: load it now. One
    // that fails to load ends the spare, which is then never given an app.
    await import(new URL("./sdk.js", bundleUrl).href).catch(() => exitProcess(1));
  }
  if (flags.includes("--spare")) appName = (await spareAssignment()).appName;
  if (flags.includes("--spare-file")) {
    appName = (await spareFileAssignment(socketPath.slice(0, socketPath.lastIndexOf("/"))))
      .appName;
  }
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  const frames = writer = new FrameWriter(conn);

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
    writer?.send({ t: "nested", id, input, method, req });
    return reply.promise;
  };
  const volumeOps = new Map<string, PromiseWithResolvers<void>>();
  g[key] = {
    mode: "container",
    apps: [],
    nested,
    volumeOp: (op, name) => {
      const id = crypto.randomUUID();
      const done = Promise.withResolvers<void>();
      volumeOps.set(id, done);
      frames.send({ t: "volume", id, op, name });
      return done.promise;
    },
  };
  watchOutput();
  Deno.exit = exitByUser;
  let functions: ReadonlyMap<string, (...args: unknown[]) => unknown>;
  try {
    await import(bundleUrl);
    // An app deployed under another name (`deploy --name`) is the bundle's only app.
    const apps = g[key].apps;
    const app = apps.find((a) => a.name === appName) ?? (apps.length === 1 ? apps[0] : undefined);
    if (!app) throw new Error(`The bundle defines no app named "${appName}"`);
    functions = app.functions;
  } catch (err) {
    if (ending) return;
    writer.send({ t: "init-failed", error: describe(err) });
    await writer.close();
    exitProcess(3);
  }
  ready = true;
  writer.send({ t: "ready", functions: [...functions.keys()] });
  const out = writer;

  const web = new WebInputs((msg) => out.send(msg));
  /** Sends an input's result. */
  const finish = (
    id: string,
    started: number,
    payload: Uint8Array | undefined,
    error: ErrorDescription | undefined,
  ) => {
    running.delete(id);
    if (ending) return;
    const ms = performance.now() - started;
    const sync = syncOutput();
    out.send(
      error
        ? { t: "done", id, ok: false, error, ms, sync }
        : { t: "done", id, ok: true, payload, ms, sync },
    );
  };
  /** Encodes what an input's function returned, and sends it. */
  const settle = (
    id: string,
    fnName: string,
    started: number,
    result: unknown,
    isWeb?: boolean,
  ) => {
    let payload: Uint8Array | undefined;
    try {
      payload = isWeb ? undefined : encodeValue(result, "result");
    } catch (err) {
      const message = `${fnName} returned a value that cannot be sent back: ${
        (err as Error).message
      }`;
      return finish(id, started, undefined, describe(new TypeError(message)));
    }
    if (payload && payload.byteLength > MAX_RESULT_BYTES) {
      return finish(id, started, undefined, tooLarge(fnName, payload.byteLength));
    }
    finish(id, started, payload, undefined);
  };
  /**
   * Runs one input. Returns a promise only when there is something to wait for (an async
   * function, a web request): a function that returns at once is done with no promise of ours.
   */
  const run = (
    id: string,
    fnName: string,
    args: Uint8Array,
    isWeb?: boolean,
  ): Promise<void> | undefined => {
    const started = performance.now();
    running.set(id, fnName);
    let value: unknown;
    let later: boolean;
    try {
      const fn = functions.get(fnName);
      if (!fn) throw new Error(`No function "${fnName}" in app "${appName}"`);
      // A web request's response went out as messages of its own: its result carries nothing.
      value = isWeb ? web.run(id, fn, args) : fn(...decodeValue(args) as unknown[]);
      // Asking for `then` runs user code too (a getter), which may throw.
      later = isThenable(value);
    } catch (err) {
      finish(id, started, undefined, describe(err));
      return undefined;
    }
    if (!later) {
      settle(id, fnName, started, value, isWeb);
      return undefined;
    }
    return Promise.resolve(value).then(
      (result) => settle(id, fnName, started, result, isWeb),
      (err) => finish(id, started, undefined, describe(err)),
    );
  };

  // Inputs the worker queued here ahead of time (pipelining): they start in
  // arrival order as running ones finish, never more than `max` at once.
  let waiting: RunMessage[] = [];
  let head = 0;
  let active = 0;
  const finished = () => {
    active--;
    pump();
  };
  const pump = () => {
    while (head < waiting.length && active < (waiting[head].max ?? Infinity)) {
      const msg = waiting[head++];
      active++;
      let wait: Promise<void> | undefined;
      try {
        wait = current.run(msg.id, run, msg.id, msg.fn, msg.args, msg.web);
      } catch {
        // Nothing of ours throws there; should it, the slot still frees.
      }
      // Done at once: the next input starts in a microtask, after its result is on its way.
      if (wait) wait.then(finished, finished);
      else queueMicrotask(finished);
    }
    if (head === waiting.length) {
      waiting = [];
      head = 0;
    }
  };
  for await (const batch of readFrames(conn)) {
    for (const msg of batch) {
      if (msg.t === "run") {
        waiting.push(msg);
        if (msg.web) web.expect(msg.id);
      } else if (msg.t === "body" || msg.t === "credit") web.take(msg);
      else if (msg.t === "volume-done") {
        const done = volumeOps.get(msg.id);
        volumeOps.delete(msg.id);
        if (msg.error) done?.reject(new Error(msg.error));
        else done?.resolve();
      } else if (msg.t === "nested-reply") {
        const reply = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) {
          reply?.reject(Object.assign(new Error(msg.error.message), { codeName: msg.error.code }));
        } else reply?.resolve(msg.res ?? {});
      }
    }
    pump();
  }
  // The worker closed the socket: it wants this sandbox gone. Apps may
  // have hooks to run first (a class's @exit); the worker bounds their time.
  await Promise.allSettled(g[key].apps.map((a) => a.shutdown?.()));
  exitProcess(0);
}

globalThis.addEventListener("unhandledrejection", (e) => {
  // A stray promise in user code must not take down other inputs.
  e.preventDefault();
  if (ending) return;
  console.error("Unhandled promise rejection:", e.reason);
});

globalThis.addEventListener("error", (e) => {
  // An error thrown from a callback would kill the process with Deno's report:
  // report it as the failure of the inputs running here instead.
  e.preventDefault();
  if (ending) return;
  const error = describe(e.error);
  const names = [...new Set(running.values())].join(", ");
  if (names) error.message = `Uncaught in ${names}: ${error.message}`;
  endByUser(error, 1);
});

// What main() does not handle itself (a spare's wait failing, a broken socket) ends the sandbox,
// which its worker sees; left to the handlers above it would linger with nothing to do.
await main().catch(() => exitProcess(1));

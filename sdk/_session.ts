/**
 * A client session with a control plane: creates the app, uploads its bundle
 * once per hash, runs calls and maps, and prints the app's logs live.
 * Loaded lazily (never part of a user's bundle) by `_connect.ts`.
 */
import { Code, ConnectError, createClient } from "../proto/deps.ts";
import type { Client } from "../proto/deps.ts";
import { create, fromBinary } from "../proto/deps.ts";
import {
  ControlService,
  type FunctionDef,
  FunctionDefSchema,
  type MapRequest,
  MapRequestSchema,
  type Output,
  OutputSchema,
} from "../proto/messages.ts";
import { createRpcTransport, type RpcTransport } from "../proto/transport.ts";
import { ConnectionError, InternalFailure, InvalidError, NotFoundError } from "./errors.ts";
import { bundleModule } from "./_bundle.ts";
import { imageDefinitions, npmExternals } from "./_image_files.ts";
import { clearStatus, printLines, progressBar, setStatus } from "./_progress.ts";
import type { ResolvedOptions } from "./_options.ts";

/** Where and how to reach the control plane. */
export interface SessionOptions {
  serverUrl: string;
  token?: string;
}

/** An app as the session needs it. */
export interface AppSpec {
  name: string;
  functions: Map<string, ResolvedOptions>;
}

/** What creating or deploying an app did. */
export interface StartedApp {
  appId: string;
  /** Deployed apps: the version now current. */
  version: number;
  /** Deployed apps: nothing changed since the current version. */
  unchanged: boolean;
  functionNames: string[];
}

const MAP_BATCH = 1024;
/** How often a running app tells the server its client is alive. */
const APP_HEARTBEAT_MS = 3_000;

/** Translates RPC failures into the SDK's errors, with what to do. */
export function translateError(err: unknown, serverUrl: string): Error {
  if (!(err instanceof ConnectError)) return err as Error;
  switch (err.code) {
    case Code.Unavailable:
    case Code.Unknown:
      if (
        /ECONNREFUSED|connect|closed|reset|GOAWAY|socket|fetch|request|refused|blocked|network|timed out/i
          .test(err.rawMessage)
      ) {
        return new ConnectionError(
          `Cannot reach the nano-modal server at ${serverUrl} (${err.rawMessage}): start it with \`nano-modal serve\`, or check --server / NANO_MODAL_SERVER`,
          { cause: err },
        );
      }
      return new InternalFailure(err.rawMessage, { cause: err });
    case Code.Unauthenticated:
      return new ConnectionError(
        `The server at ${serverUrl} refused our token (${err.rawMessage}): set NANO_MODAL_TOKEN to the server's token`,
        { cause: err },
      );
    case Code.NotFound:
      return new NotFoundError(err.rawMessage, { cause: err });
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.ResourceExhausted:
      return new InvalidError(err.rawMessage, { cause: err });
    default:
      return new InternalFailure(`${err.rawMessage} (${Code[err.code]})`, { cause: err });
  }
}

function toFunctionDef(name: string, o: ResolvedOptions, imageJson: string): FunctionDef {
  return create(FunctionDefSchema, {
    name,
    imageJson,
    timeoutMs: o.timeoutMs,
    retries: { ...o.retries },
    memoryMib: o.memoryMiB,
    cpu: o.cpu,
    blockNetwork: o.blockNetwork,
    minContainers: o.minContainers,
    maxContainers: o.maxContainers,
    scaledownWindowMs: o.scaledownWindowMs,
    concurrency: o.concurrency,
  });
}

/** A connection to a control plane, optionally running one app. */
export class Session {
  readonly serverUrl: string;
  #rpc: RpcTransport;
  #client: Client<typeof ControlService>;
  #appId = "";
  #functionIds: Record<string, string> = {};
  #logs?: AbortController;
  #logsDone?: Promise<void>;
  /** Sequence number of the last log batch printed, and who waits for more. */
  #printedSeq = 0;
  #logWaiters: { seq: number; resolve: () => void }[] = [];
  #heartbeat?: ReturnType<typeof setInterval>;
  /** "app/function" -> function id of a deployed function. */
  #lookups = new Map<string, Promise<string>>();

  private constructor(options: SessionOptions) {
    this.serverUrl = options.serverUrl;
    this.#rpc = createRpcTransport({ baseUrl: options.serverUrl, token: options.token });
    this.#client = createClient(ControlService, this.#rpc.transport);
  }

  /** Connects and checks that the server answers (and accepts our token). */
  static async connect(options: SessionOptions): Promise<Session> {
    let session: Session;
    try {
      session = new Session(options);
    } catch (err) {
      throw new InvalidError((err as Error).message);
    }
    try {
      await session.#client.ping({}, { timeoutMs: 10_000 });
    } catch (err) {
      session.close();
      throw translateError(err, options.serverUrl);
    }
    return session;
  }

  async #rpcCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateError(err, this.serverUrl);
    }
  }

  /**
   * Bundles the entry module, uploads it if the server lacks it, and creates
   * the app: an ephemeral one this session runs (heartbeating and printing its
   * logs), or a deployed version (`ephemeral: false`).
   */
  async startApp(
    app: AppSpec,
    entryUrl: string,
    options: { ephemeral: boolean },
  ): Promise<StartedApp> {
    const images = new Map([...app.functions].map(([name, o]) => [name, o.image]));
    const bundle = await bundleModule(entryUrl, npmExternals(images.values()));
    const res = await this.#rpcCall(async () => {
      const upload = async (hash: string, data: Uint8Array) => {
        const { present } = await this.#client.putBundle({ hash });
        if (!present) await this.#client.putBundle({ hash, data });
      };
      await upload(bundle.hash, bundle.code);
      const imageJson = await imageDefinitions(images, upload);
      const res = await this.#client.createApp({
        name: app.name,
        bundleHash: bundle.hash,
        ephemeral: options.ephemeral,
        entryUrl,
        functions: [...app.functions].map(([name, o]) =>
          toFunctionDef(name, o, imageJson.get(name)!)
        ),
      });
      return res;
    });
    if (!options.ephemeral) {
      return {
        appId: res.appId,
        version: res.version,
        unchanged: res.unchanged,
        functionNames: Object.keys(res.functionIds),
      };
    }
    this.#appId = res.appId;
    this.#functionIds = res.functionIds;
    this.#followLogs();
    this.#heartbeat = setInterval(() => {
      this.#client.appHeartbeat({ appId: this.#appId }, { timeoutMs: APP_HEARTBEAT_MS })
        .catch(() => {});
    }, APP_HEARTBEAT_MS);
    return { appId: res.appId, version: 0, unchanged: false, functionNames: [] };
  }

  /** The id of the current version's `functionName` in the deployed app `appName`. */
  lookup(appName: string, functionName: string): Promise<string> {
    const key = `${appName}/${functionName}`;
    let found = this.#lookups.get(key);
    if (!found) {
      found = this.#rpcCall(async () =>
        (await this.#client.lookupFunction({ appName, functionName })).functionId
      );
      this.#lookups.set(key, found);
      found.catch(() => this.#lookups.delete(key));
    }
    return found;
  }

  /** Cancels a call: queued inputs are dropped, running ones stopped. */
  async cancel(callId: string): Promise<void> {
    await this.#rpcCall(() => this.#client.cancelCall({ callId }));
  }

  /** The id of a function of the running app. */
  functionId(name: string): string {
    const id = this.#functionIds[name];
    if (!id) {
      throw new NotFoundError(
        `Function "${name}" is not part of the running app: define it with app.function() at the top level of your module`,
      );
    }
    return id;
  }

  /** Runs one input and waits for its output, reattaching if the stream drops. */
  async call(functionId: string, args: Uint8Array): Promise<Output> {
    // Our own call id lets a retry after a dropped connection find the same call.
    const callId = `fc-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    let backoffMs = 100;
    for (let attempt = 0;; attempt++) {
      try {
        const { output } = await this.#client.call({ functionId, args, callId });
        const done = output ?? (await this.awaitCall(callId, undefined))!;
        await this.logsBefore(done.logSeq);
        return done;
      } catch (err) {
        if (!isTransient(err) || attempt >= 30) throw translateError(err, this.serverUrl);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  /**
   * Waits until the app's logs up to `logSeq` are printed, so a function's
   * output shows before its result (bounded, in case the log stream lags).
   */
  logsBefore(logSeq: number): Promise<void> {
    if (!this.#logs || logSeq <= this.#printedSeq) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.#logWaiters.push({
        seq: logSeq,
        resolve: () => (clearTimeout(timer), resolve()),
      });
    });
  }

  /** Queues one input; returns its call id. */
  spawn(functionId: string, args: Uint8Array): Promise<string> {
    return this.#rpcCall(async () => (await this.#client.spawn({ functionId, args })).callId);
  }

  /** Waits up to `timeoutMs` (forever if undefined) for a call's output. */
  async awaitCall(callId: string, timeoutMs: number | undefined): Promise<Output | undefined> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    let backoffMs = 100;
    while (true) {
      const wait = Math.max(0, Math.min(50_000, deadline - Date.now()));
      try {
        const res = await this.#client.awaitCall({ callId, timeoutMs: wait });
        backoffMs = 100;
        if (res.done) return res.output;
      } catch (err) {
        if (!isTransient(err) || Date.now() >= deadline) throw translateError(err, this.serverUrl);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
      if (Date.now() >= deadline) return undefined;
    }
  }

  /**
   * Streams inputs to a map and yields outputs as they finish. If the stream
   * drops, reconnects, resends unacknowledged inputs, and skips outputs already
   * received, so each output arrives once.
   */
  async *map(
    functionId: string,
    inputs: AsyncIterable<Uint8Array>,
    label: string,
  ): AsyncGenerator<Output> {
    const source = inputs[Symbol.asyncIterator]();
    const unacked = new Map<number, Uint8Array>();
    const have = new Set<number>();
    let sent = 0;
    let total: number | null = null;
    let callId = "";
    let attempt = 0;
    setStatus(progressBar(label, 0, null), true);
    try {
      while (total === null || have.size < total) {
        const resume = [...unacked];
        const requests = async function* (): AsyncGenerator<MapRequest> {
          yield create(MapRequestSchema, {
            msg: { case: "start", value: { functionId, callId, haveIdx: callId ? [...have] : [] } },
          });
          for (let i = 0; i < resume.length; i += MAP_BATCH) {
            const part = resume.slice(i, i + MAP_BATCH);
            for (const [idx, args] of part) {
              yield create(MapRequestSchema, {
                msg: { case: "inputs", value: { startIdx: idx, args: [args] } },
              });
            }
          }
          while (total === null) {
            const batch: Uint8Array[] = [];
            const startIdx = sent;
            while (batch.length < MAP_BATCH) {
              const next = await source.next();
              if (next.done) {
                total = sent;
                break;
              }
              batch.push(next.value);
              unacked.set(sent++, next.value);
            }
            if (batch.length) {
              yield create(MapRequestSchema, {
                msg: { case: "inputs", value: { startIdx, args: batch } },
              });
            }
          }
          yield create(MapRequestSchema, { msg: { case: "end", value: { total } } });
        };
        try {
          for await (const res of this.#client.map(requests())) {
            attempt = 0;
            if (res.callId) callId = res.callId;
            for (const idx of unacked.keys()) {
              if (idx < res.inputsAcked) unacked.delete(idx);
              else break;
            }
            if (res.outputs.length) await this.logsBefore(res.logSeq);
            for (const data of res.outputs) {
              const out = fromBinary(OutputSchema, data);
              if (have.has(out.idx)) continue;
              have.add(out.idx);
              yield out;
            }
            setStatus(progressBar(label, have.size, total));
          }
          if (total !== null && have.size < total) {
            throw new ConnectError("map stream ended early", Code.Unavailable);
          }
        } catch (err) {
          if (!callId || !isTransient(err) || ++attempt > 30) {
            throw translateError(err, this.serverUrl);
          }
          setStatus(`${label}  reconnecting to ${this.serverUrl}…`, true);
          await sleep(Math.min(200 * 2 ** attempt, 5_000));
        }
      }
    } finally {
      clearStatus();
    }
  }

  #followLogs(): void {
    const ctl = new AbortController();
    this.#logs = ctl;
    this.#logsDone = (async () => {
      let backoffMs = 100;
      while (!ctl.signal.aborted) {
        try {
          for await (
            const batch of this.#client.streamLogs({ appId: this.#appId }, { signal: ctl.signal })
          ) {
            backoffMs = 100;
            this.#printedSeq = Math.max(this.#printedSeq, batch.seq);
            for (const line of batch.lines) {
              const prefix = colorOut
                ? `\x1b[2m[${line.functionName}]\x1b[0m `
                : `[${line.functionName}] `;
              const text = line.text.endsWith("\n") ? line.text : `${line.text}\n`;
              printLines(line.fd === 1 ? 1 : 2, text.replace(/^(?=.)/gm, prefix));
            }
            this.#logWaiters = this.#logWaiters.filter((w) =>
              w.seq <= this.#printedSeq ? (w.resolve(), false) : true
            );
          }
        } catch {
          // The server went away or restarted: follow again once it is back.
        }
        if (!ctl.signal.aborted) await sleep(backoffMs = Math.min(backoffMs * 2, 2_000));
      }
    })();
  }

  /** Stops the app (ephemeral apps end with their run) and closes the connection. */
  async stopApp(): Promise<void> {
    clearInterval(this.#heartbeat);
    if (this.#appId) {
      // Let the last log lines arrive before we stop listening.
      await sleep(50);
      await this.#client.stopApp({ appId: this.#appId }, { timeoutMs: 5_000 }).catch(() => {});
    }
    this.#logs?.abort();
    await this.#logsDone;
  }

  /** Closes the connection. */
  close(): void {
    clearInterval(this.#heartbeat);
    this.#logs?.abort();
    this.#rpc.close();
  }
}

const colorOut = (() => {
  try {
    return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  } catch {
    return false;
  }
})();

function isTransient(err: unknown): boolean {
  return err instanceof ConnectError &&
    (err.code === Code.Unavailable || err.code === Code.Unknown || err.code === Code.Aborted ||
      err.code === Code.Internal);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

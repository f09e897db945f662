/**
 * A client session with a control plane: checks the server (and its
 * version), creates the app and uploads its bundle once per hash, and runs
 * calls. Maps stream through `_map_stream.ts`; the app's logs are printed by
 * `_log_follower.ts`. Loaded lazily (never part of a user's bundle) by
 * `_connect.ts`.
 */
import { type Client, createClient } from "../proto/deps.ts";
import { ControlService, type Output } from "../proto/messages.ts";
import { decodeOutput } from "../proto/output_decode.ts";
import { createRpcTransport, type RpcTransport } from "../proto/transport.ts";
import { InvalidError, NotFoundError } from "./errors.ts";
import type { Bundle } from "./_bundle.ts";
import { type AppSpec, createApp, startBundle } from "./_create_app.ts";
export type { AppSpec } from "./_create_app.ts";
/** Volume file access from outside functions, loaded with the session (see `volume.ts`). */
export { volumeHandle } from "./_state_session.ts";
import { LogFollower } from "./_log_follower.ts";
import { mapStream, type MapStreamOptions } from "./_map_stream.ts";
import { isTransient, sleep, translateError } from "./_rpc_errors.ts";
import { runtime } from "./_runtime.ts";
import { versionMismatch } from "./_version_check.ts";
import { VERSION } from "./version.ts";
import { trace } from "../proto/trace.ts";

/** Where and how to reach the control plane. */
export interface SessionOptions {
  serverUrl: string;
  token?: string;
  /** Starts the server first (an embedded one): connect once it resolves; its error is the caller's. */
  startServer?: () => Promise<void>;
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

/** How often a running app tells the server its client is alive. */
const APP_HEARTBEAT_MS = 3_000;

/** Longest wait, after stopping an app, for the server to end its log stream. */
const LOGS_AFTER_STOP_MS = 250;

/** A connection to a control plane, optionally running one app. */
export class Session {
  readonly serverUrl: string;
  #rpc: RpcTransport;
  #client: Client<typeof ControlService>;
  #appId = "";
  #functionIds: Record<string, string> = {};
  #logs?: LogFollower;
  #heartbeat?: ReturnType<typeof setInterval>;
  /** "app/function" -> function id of a deployed function. */
  #lookups = new Map<string, Promise<string>>();

  private constructor(options: SessionOptions) {
    this.serverUrl = options.serverUrl;
    this.#rpc = createRpcTransport({ baseUrl: options.serverUrl, token: options.token });
    this.#client = createClient(ControlService, this.#rpc.transport);
  }

  /** The connection's transport (secrets and volumes use it too). */
  get transport(): RpcTransport["transport"] {
    return this.#rpc.transport;
  }

  /**
   * Starts bundling `app` (which needs no server) and, once that runs in
   * another process, connects: an embedded server (`startServer`) starts
   * meanwhile on this thread.
   */
  static async open(
    options: SessionOptions & { entryUrl: string },
    app: AppSpec,
  ): Promise<{ session: Session; bundle: Promise<Bundle> }> {
    const pending = startBundle(app, options.entryUrl);
    await pending.started;
    return { session: await Session.connect(options), bundle: pending.bundle };
  }

  /** Connects and checks that the server answers (and accepts our token). */
  static async connect(options: SessionOptions): Promise<Session> {
    await options.startServer?.();
    let session: Session;
    try {
      session = new Session(options);
    } catch (err) {
      throw new InvalidError((err as Error).message);
    }
    try {
      const { version } = await session.#client.ping({}, { timeoutMs: 10_000 });
      warnOnVersionMismatch(version);
      trace("connected");
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
    options: { ephemeral: boolean; detach?: boolean; bundle?: Promise<Bundle> },
  ): Promise<StartedApp> {
    // A run streams its logs, and maybe a map's inputs: that connection opens meanwhile.
    if (options.ephemeral) this.#rpc.openStreams();
    const res = await this.#rpcCall(() =>
      createApp(this.#client, this.#rpc.transport, { app, entryUrl, ...options })
    );
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
    this.#logs = new LogFollower(this.#client, this.#appId);
    if (options.detach) {
      return { appId: res.appId, version: 0, unchanged: false, functionNames: [] };
    }
    this.#heartbeat = setInterval(() => {
      this.#client.appHeartbeat({ appId: this.#appId }, { timeoutMs: APP_HEARTBEAT_MS })
        .catch(() => {});
    }, APP_HEARTBEAT_MS);
    return { appId: res.appId, version: 0, unchanged: false, functionNames: [] };
  }

  /**
   * Prints one line if, after `afterMs`, this app has inputs queued and no
   * worker is connected; returns the function that stops watching.
   */
  watchForWorkers(afterMs = 3_000): () => void {
    let warned = false;
    const timer = setInterval(async () => {
      try {
        const stats = await this.#client.getStats({}, { timeoutMs: 2_000 });
        const queued = stats.queues.some((q) => q.appId === this.#appId && q.queued > 0);
        if (queued && stats.workers.length === 0 && !warned) {
          warned = true;
          console.error(
            `waiting for a worker: none is connected to ${this.serverUrl} (start one with \`nano-modal worker --server ${this.serverUrl}\`)`,
          );
        }
      } catch {
        // Best effort: calls report a lost server themselves.
      }
    }, afterMs);
    return () => clearInterval(timer);
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
        const event = await this.#client.call({ functionId, args, callId });
        if (event.output.length === 0) return (await this.awaitCall(callId, undefined))!;
        await this.logsBefore(event.logSeq);
        trace("call returned");
        return decodeOutput(event.output);
      } catch (err) {
        if (!isTransient(err) || attempt >= 30) throw translateError(err, this.serverUrl);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  /** Waits until the app's logs up to `logSeq` are printed (see `LogFollower.before`). */
  logsBefore(logSeq: number): Promise<void> {
    return this.#logs?.before(logSeq) ?? Promise.resolve();
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
        if (res.done) {
          await this.logsBefore(res.logSeq);
          return decodeOutput(res.output);
        }
      } catch (err) {
        if (!isTransient(err) || Date.now() >= deadline) throw translateError(err, this.serverUrl);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
      if (Date.now() >= deadline) return undefined;
    }
  }

  /** Streams inputs to a map and yields outputs as they finish (see `_map_stream.ts`). */
  map(
    options: Pick<MapStreamOptions, "functionId" | "inputs" | "label">,
  ): AsyncGenerator<Output> {
    return mapStream({
      ...options,
      client: this.#client,
      serverUrl: this.serverUrl,
      logsBefore: (seq) => this.logsBefore(seq),
    });
  }

  /** Stops the app (ephemeral apps end with their run) and closes the connection. */
  async stopApp(): Promise<void> {
    trace("stopping app");
    clearInterval(this.#heartbeat);
    if (this.#appId) {
      const stopping = this.#client.stopApp({ appId: this.#appId }, { timeoutMs: 5_000 });
      // The server ends the app's log stream after the lines published before the stop.
      await (this.#logs?.finish(stopping, LOGS_AFTER_STOP_MS) ?? stopping.catch(() => {}));
    }
    await this.#logs?.stop();
    trace("app stopped");
  }

  /** Closes the connection. */
  close(): void {
    clearInterval(this.#heartbeat);
    this.#logs?.stop();
    this.#rpc.close();
  }
}

/** Prints one line, once per process, when client and server differ in major or minor version. */
function warnOnVersionMismatch(serverVersion: string): void {
  const rt = runtime();
  const warning = versionMismatch(VERSION, serverVersion);
  if (!warning || rt.versionWarned) return;
  rt.versionWarned = true;
  console.error(`warning: ${warning}`);
}

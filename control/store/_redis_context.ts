/**
 * What every part of the Redis store shares: one command connection (with
 * the scripts defined on it), one subscriber connection for wake-ups and
 * logs, the key names, the clock and the retention period.
 * @module
 */
import type { Buffer } from "node:buffer";
import type { Redis } from "../_redis_deps.ts";
import type { Clock } from "../../proto/clock.ts";
import { type KeyNames, keyNames } from "./_redis_keys.ts";
import type { ScriptDef } from "./_redis_lua.ts";
import { RedisEvents } from "./_redis_events.ts";
import { closeConnection, explainFailure, openConnection } from "./_redis_connection.ts";

/** An argument of a Redis command or script. */
export type Arg = string | number | Buffer;
type ScriptClient = Redis & Record<string, (...args: Arg[]) => Promise<unknown>>;

/** How to reach Redis and what to share. */
export interface RedisContextOptions {
  url: string;
  clock: Clock;
  retentionMs: number;
  keyPrefix: string;
}

/** Connections, keys and time shared by the Redis store's parts. */
export class RedisContext {
  readonly keys: KeyNames;
  readonly clock: Clock;
  readonly retentionMs: number;
  readonly url: string;
  readonly events: RedisEvents;
  readonly #client: ScriptClient;
  readonly #sub: Redis;

  /** Starts connecting; commands wait for the connection. */
  constructor(options: RedisContextOptions) {
    this.url = options.url;
    this.clock = options.clock;
    this.retentionMs = options.retentionMs;
    this.keys = keyNames(options.keyPrefix);
    // Only the command connection reports outages: the subscriber fails alongside it.
    this.#client = openConnection(
      options.url,
      (m) => console.error(`nano-modal: ${m}`),
    ) as ScriptClient;
    this.#sub = openConnection(options.url);
    this.events = new RedisEvents(this.#sub, this.keys, this.clock);
  }

  /** Defines scripts as commands on the command connection. */
  define(scripts: Record<string, ScriptDef>): void {
    for (const [name, def] of Object.entries(scripts)) this.#client.defineCommand(name, def);
  }

  /** `prefix + kind + id`. */
  key(kind: string, id: string): string {
    return this.keys.prefix + kind + id;
  }

  /** Runs commands, turning a lost connection into `RedisUnavailableError`. */
  async run<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#client);
    } catch (error) {
      throw explainFailure(error, this.url);
    }
  }

  /** Calls a defined script. */
  script<T>(name: string, ...args: Arg[]): Promise<T> {
    return this.run((r) => (r as ScriptClient)[name](...args) as Promise<T>);
  }

  /** Registers the wait before checking state, so a message in between is not missed. */
  async waitUnless(
    wait: (signal: AbortSignal) => Promise<void>,
    ready: (r: Redis) => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.run(() => this.events.ready());
    const early = new AbortController();
    const waiting = wait(signal ? AbortSignal.any([signal, early.signal]) : early.signal);
    try {
      if (await this.run(ready)) early.abort();
    } catch (error) {
      early.abort();
      throw error;
    } finally {
      await waiting;
    }
  }

  /** Ends pending waits and closes both connections. */
  async close(): Promise<void> {
    this.events.close();
    await Promise.all([closeConnection(this.#client), closeConnection(this.#sub)]);
  }
}

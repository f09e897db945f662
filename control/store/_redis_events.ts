/**
 * Wake-ups and log fan-out for the Redis store over Redis pub/sub, so
 * a wait in one control plane ends when another control plane enqueues or
 * completes. Messages are hints: the waits re-check state and time out anyway.
 * @module
 */
import type { Buffer } from "node:buffer";
import type { Redis } from "../_deps.ts";
import type { Clock } from "../../proto/clock.ts";
import { WakeSet } from "./_wake_set.ts";
import type { KeyNames } from "./_redis_keys.ts";
import type { LogListener } from "./log_bus.ts";
import { decodeLogs } from "./_redis_codec.ts";

/** One subscriber connection's waiters and log subscribers. */
export class RedisEvents {
  #sub: Redis;
  #inputs: string;
  #outputs: string;
  #logsPrefix: string;
  #subscribed: Promise<void> | null = null;
  #clock: Clock;
  #inputWake: WakeSet;
  /** Names this context in the messages it publishes, so it skips its own (woken locally). */
  readonly sender: string = crypto.randomUUID();
  #outputWakes = new Map<string, WakeSet>();
  #logs = new Map<
    string,
    { subs: Set<LogListener>; ready: Promise<void> }
  >();

  constructor(sub: Redis, keys: KeyNames, clock: Clock) {
    this.#sub = sub;
    this.#clock = clock;
    this.#inputWake = new WakeSet(clock);
    this.#inputs = keys.inputsChannel;
    this.#outputs = keys.outputsChannel;
    this.#logsPrefix = keys.logsChannelPrefix;
    sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      this.#dispatch(channel.toString(), message);
    });
  }

  /** Subscribes to the wake-up channels; a failed attempt is retried on the next call. */
  ready(): Promise<void> {
    this.#subscribed ??= this.#sub.subscribe(this.#inputs, this.#outputs).then(
      () => {},
      (error) => {
        this.#subscribed = null;
        throw error;
      },
    );
    return this.#subscribed;
  }

  /** Waits for an "inputs queued" message; registers before returning. */
  waitInputs(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.#inputWake.wait(timeoutMs, signal);
  }

  /** Waits for an "outputs or total changed" message for one call. */
  async waitOutputs(callId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    let wake = this.#outputWakes.get(callId);
    if (!wake) this.#outputWakes.set(callId, wake = new WakeSet(this.#clock));
    try {
      await wake.wait(timeoutMs, signal);
    } finally {
      if (wake.size === 0 && this.#outputWakes.get(callId) === wake) {
        this.#outputWakes.delete(callId);
      }
    }
  }

  /** Adds a log subscriber, subscribing the connection to the app's channel if first. */
  async subscribeLogs(
    appId: string,
    onLogs: LogListener,
  ): Promise<() => void> {
    let entry = this.#logs.get(appId);
    if (!entry) {
      const ready = this.#sub.subscribe(this.#logsPrefix + appId).then(() => {});
      this.#logs.set(appId, entry = { subs: new Set(), ready });
      ready.catch(() => {
        if (this.#logs.get(appId) === entry) this.#logs.delete(appId);
      });
    }
    await entry.ready;
    const { subs } = entry;
    subs.add(onLogs);
    return () => {
      subs.delete(onLogs);
      if (subs.size > 0 || this.#logs.get(appId) !== entry) return;
      this.#logs.delete(appId);
      // Best effort: a failed unsubscribe only leaves messages nobody listens to.
      this.#sub.unsubscribe(this.#logsPrefix + appId).catch(() => {});
    };
  }

  /** Wakes this context's input waiters now (it queued inputs; its own message is skipped). */
  wakeInputs(): void {
    this.#inputWake.wakeAll();
  }

  /** Wakes this context's waiters on these calls now (its own message is skipped). */
  wakeOutputs(callIds: string[]): void {
    for (const callId of callIds) this.#outputWakes.get(callId)?.wakeAll();
  }

  /** Ends every wait; called on close. */
  close(): void {
    this.#inputWake.wakeAll();
    for (const wake of this.#outputWakes.values()) wake.wakeAll();
  }

  #dispatch(channel: string, message: Buffer): void {
    if (channel === this.#inputs) {
      if (message.toString() !== this.sender) this.#inputWake.wakeAll();
    } else if (channel === this.#outputs) {
      // `<sender>\n<callId>...` from completions, a bare call id from a new total.
      const lines = message.toString().split("\n");
      if (lines[0] === this.sender) return;
      for (const callId of lines) this.#outputWakes.get(callId)?.wakeAll();
    } else if (channel.startsWith(this.#logsPrefix)) {
      const subs = this.#logs.get(channel.slice(this.#logsPrefix.length))?.subs;
      if (!subs) return;
      const { seq, data } = decodeLogs(message);
      for (const onLogs of [...subs]) onLogs(data, seq);
    }
  }
}

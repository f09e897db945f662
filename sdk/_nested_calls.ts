/**
 * Calls made from inside a function's container: the same operations as the
 * client session, sent through the entrypoint to the worker over the
 * sandbox's unix socket (see `Runtime.nested` in proto/runtime.ts). Part of
 * user bundles, so it uses no Connect and no network.
 */
import type { NestedCall } from "../proto/runtime.ts";
import type { Output } from "../proto/messages.ts";
import { InternalFailure, InvalidError, NotFoundError } from "./errors.ts";
import type { CallSession } from "./_connect.ts";
import { type EncodedInputs, inputReader } from "./_map_inputs.ts";

/** Calls of one map in flight at once from a container. */
const MAP_CONCURRENCY = 64;

function toSdkError(err: unknown): Error {
  const e = err as { codeName?: string; message?: string };
  const message = e?.message ?? String(err);
  switch (e?.codeName) {
    case "NotFound":
      return new NotFoundError(message);
    case "InvalidArgument":
    case "FailedPrecondition":
    case "ResourceExhausted":
    case "PermissionDenied":
      return new InvalidError(message);
    default:
      return new InternalFailure(message);
  }
}

/** The session of code running in a container. */
export class NestedSession implements CallSession {
  readonly #send: NestedCall;
  readonly #lookups = new Map<string, Promise<string>>();

  constructor(send: NestedCall) {
    this.#send = send;
  }

  async #rpc(method: string, req: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      return await this.#send(method, req);
    } catch (err) {
      throw toSdkError(err);
    }
  }

  /** A function of the caller's own app. */
  functionId(name: string): Promise<string> {
    return this.lookup("", name);
  }

  /** A function of a deployed app (`""`: the caller's own app). */
  lookup(appName: string, functionName: string): Promise<string> {
    const key = `${appName}/${functionName}`;
    let found = this.#lookups.get(key);
    if (!found) {
      found = this.#rpc("lookupFunction", { appName, functionName }).then((r) =>
        r.functionId as string
      );
      this.#lookups.set(key, found);
      found.catch(() => this.#lookups.delete(key));
    }
    return found;
  }

  async call(functionId: string, args: Uint8Array): Promise<Output> {
    const callId = `fc-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    const res = await this.#rpc("call", { functionId, args, callId });
    const output = res.output as Uint8Array;
    if (output.length) return await decodeOutput(output);
    return (await this.awaitCall(callId, undefined))!;
  }

  async spawn(functionId: string, args: Uint8Array): Promise<string> {
    return (await this.#rpc("spawn", { functionId, args })).callId as string;
  }

  async awaitCall(callId: string, timeoutMs: number | undefined): Promise<Output | undefined> {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    while (true) {
      const wait = Math.max(0, Math.min(50_000, deadline - performance.now()));
      const res = await this.#rpc("awaitCall", { callId, timeoutMs: wait });
      if (res.done) return await decodeOutput(res.output as Uint8Array);
      if (performance.now() >= deadline) return undefined;
    }
  }

  async cancel(callId: string): Promise<void> {
    await this.#rpc("cancelCall", { callId });
  }

  /** Runs each input as its own call, a bounded number at once, yielding outputs as they finish. */
  async *map(
    options: { functionId: string; inputs: EncodedInputs; label: string },
  ): AsyncGenerator<Output> {
    const read = inputReader(options.inputs);
    const running = new Map<number, Promise<[number, Output]>>();
    let idx = 0;
    let ended = false;
    while (true) {
      while (!ended && running.size < MAP_CONCURRENCY) {
        const args = await read();
        if (args === undefined) {
          ended = true;
          break;
        }
        const i = idx++;
        running.set(
          i,
          this.call(options.functionId, args).then((out) => [i, { ...out, idx: i }]),
        );
      }
      if (running.size === 0) return;
      const [i, out] = await Promise.race(running.values());
      running.delete(i);
      yield out;
    }
  }
}

/**
 * Decodes an `Output`. The generated messages load on a sandbox's first call, not at its start:
 * evaluating them (protobuf's descriptor registry) took ~10 ms of every sandbox's start.
 */
async function decodeOutput(bytes: Uint8Array): Promise<Output> {
  return (await import("../proto/output_decode.ts")).decodeOutput(bytes);
}

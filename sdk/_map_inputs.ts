/**
 * What `RemoteFunction`'s calls and maps check and encode on the way in, and
 * the order their outputs come out in.
 */
import { encodeValue, UnsendableValueError } from "../proto/payload.ts";
import { isThenable } from "../proto/thenable.ts";
import type { Output } from "../proto/messages.ts";
import { InvalidError } from "./errors.ts";

/** One message's limit on the wire (`MAX_MESSAGE_BYTES` in proto/transport.ts). */
const MAX_MESSAGE_MIB = 64;
/** Arguments of one call must leave room for the rest of their message. */
export const MAX_ARGS_BYTES = MAX_MESSAGE_MIB * 1024 * 1024 - 64 * 1024;

/**
 * Encodes a call's arguments; an unsendable or oversized value is an
 * {@linkcode InvalidError} naming `name`.
 */
export function encodeArgs(name: string, args: unknown[]): Uint8Array {
  try {
    const bytes = encodeValue(args, "args");
    if (bytes.byteLength > MAX_ARGS_BYTES) {
      throw new InvalidError(
        `${name}: the arguments are ${
          (bytes.byteLength / 1048576).toFixed(1)
        } MiB encoded, over the ${MAX_MESSAGE_MIB} MiB limit of one message: put big data in a Volume and pass its path`,
      );
    }
    return bytes;
  } catch (err) {
    if (err instanceof UnsendableValueError) {
      throw new InvalidError(`${name}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * A map's encoded inputs: a sync source, pulled a batch at a time without awaiting each (an
 * input it gives as a promise is awaited), or an async one.
 */
export type EncodedInputs =
  | Iterable<Uint8Array | Promise<Uint8Array>>
  | AsyncIterable<Uint8Array>;

/**
 * Reads `inputs` one at a time: the next input, undefined at the end, or a promise of either
 * where the source is async (only then is there anything to await).
 */
export function inputReader(
  inputs: EncodedInputs,
): () => Uint8Array | undefined | Promise<Uint8Array | undefined> {
  if (Symbol.asyncIterator in inputs) {
    const it = inputs[Symbol.asyncIterator]();
    return () => it.next().then((r) => r.done ? undefined : r.value);
  }
  const it = inputs[Symbol.iterator]();
  return () => {
    const r = it.next();
    return r.done ? undefined : r.value;
  };
}

/**
 * The encoded inputs of `items`. A sync iterable (an array, a Set, a generator) stays sync: a
 * map pulls a batch of its inputs in one go instead of awaiting each (an async generator costs
 * a few promises an item, a tenth of the client's time in a big map). An item given as a
 * promise stays one, for the map to await, as iterating the items asynchronously would.
 */
export function encodeItems<T>(
  items: Iterable<T> | AsyncIterable<T>,
  encode: (item: Awaited<T>) => Uint8Array,
): EncodedInputs {
  if (Symbol.asyncIterator in items) {
    return (async function* () {
      for await (const item of items) yield encode(item);
    })();
  }
  return (function* () {
    for (const item of items) {
      yield isThenable(item) ? Promise.resolve(item).then(encode) : encode(item as Awaited<T>);
    }
  })();
}

/** Refuses options a map does not know. */
export function checkMapOptions(label: string, options: object): void {
  for (const key of Object.keys(options)) {
    if (key !== "order" && key !== "returnExceptions") {
      throw new InvalidError(
        `Unknown option "${key}" for ${label}(): valid options are order, returnExceptions`,
      );
    }
  }
}

/**
 * Puts outputs in input order when `order` (else they go as they finish): give it each output
 * as it arrives, and it returns those now due, in order. A plain function rather than another
 * async generator in the way of every output.
 */
export function inputOrder(order: boolean): (out: Output) => Output[] {
  if (!order) return (out) => [out];
  const pending = new Map<number, Output>();
  let next = 0;
  return (out) => {
    if (out.idx !== next) {
      pending.set(out.idx, out);
      return [];
    }
    const ready = [out];
    next++;
    for (let due = pending.get(next); due; due = pending.get(next)) {
      pending.delete(next++);
      ready.push(due);
    }
    return ready;
  };
}

/** Refuses inputs that are not iterable, in one line naming `where`. */
export function checkIterable(where: string, inputs: unknown): void {
  const ok = inputs !== null && typeof inputs === "object" &&
    (Symbol.iterator in inputs || Symbol.asyncIterator in inputs);
  if (!ok && typeof inputs !== "string") {
    throw new InvalidError(
      `${where} needs an iterable of inputs (an array, a Set, a generator, ...), got ${
        inputs === null ? "null" : typeof inputs
      }`,
    );
  }
}

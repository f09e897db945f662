/**
 * What `RemoteFunction`'s calls and maps check and encode on the way in, and
 * the order their outputs come out in.
 */
import { encodeValue, UnsendableValueError } from "../proto/payload.ts";
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

/** Iterates any iterable as an async one. */
export async function* toAsync<T>(items: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* items as AsyncIterable<T>;
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

/** Yields outputs by input index when `order`, else as they finish. */
export async function* inOrder(
  outputs: AsyncIterable<Output>,
  order: boolean,
): AsyncGenerator<Output> {
  const pending = new Map<number, Output>();
  let next = 0;
  for await (const out of outputs) {
    if (!order) {
      yield out;
      continue;
    }
    pending.set(out.idx, out);
    while (pending.has(next)) {
      const ready = pending.get(next)!;
      pending.delete(next++);
      yield ready;
    }
  }
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

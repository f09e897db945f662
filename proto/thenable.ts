/**
 * Whether a value is awaitable: what `await` and `Promise.resolve` treat as a promise (an object
 * or function with a callable `then`). Asking runs a `then` getter, which may throw.
 * @module
 */

/** Whether `value` has a callable `then`, as `await` checks. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

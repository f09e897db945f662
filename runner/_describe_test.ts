import { match, ok, strictEqual } from "node:assert/strict";
import { describe, MAX_ERROR_TEXT } from "./_describe.ts";

const keep = (stack: string) => stack;

Deno.test("describe() gives plain strings for an Error whose name is a Symbol", () => {
  const e = new Error("x");
  Object.defineProperty(e, "name", { value: Symbol("evil") });
  const d = describe(e, keep);
  strictEqual(d.name, "evil");
  strictEqual(d.message, "x");
});

Deno.test("describe() survives throwing getters, a non-string stack, Proxies and null prototypes", () => {
  const getter = new Error("g");
  Object.defineProperty(getter, "name", {
    get() {
      throw new Error("no");
    },
  });
  strictEqual(describe(getter, keep).name, "Error");
  const stack = new Error("s");
  Object.defineProperty(stack, "stack", { value: 42 });
  strictEqual(describe(stack, keep).stack, "");
  const trap = () => {
    throw new Error("trap");
  };
  const proxy = new Proxy(new Error("p"), { get: trap, getPrototypeOf: trap, ownKeys: trap });
  match(describe(proxy, keep).message, /cannot be described|non-Error/);
  match(describe(Object.create(null), keep).message, /Uncaught non-Error value/);
  match(describe(Symbol("s"), keep).message, /Uncaught non-Error value: s/);
});

Deno.test("describe() cuts huge messages and drops huge encoded values", () => {
  const d = describe(new Error("m".repeat(MAX_ERROR_TEXT * 32)), keep);
  ok(d.message.length < MAX_ERROR_TEXT + 20);
  ok(d.value === undefined, "an encoded value over 1 MiB is dropped");
  ok(describe(new RangeError("small"), keep).value instanceof Uint8Array);
});

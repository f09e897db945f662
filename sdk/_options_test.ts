import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { resolveOptions } from "./_options.ts";
import { Image } from "./image.ts";
import { InvalidError } from "./errors.ts";

Deno.test("resolveOptions() fills in defaults", () => {
  const o = resolveOptions("f", {});
  strictEqual(o.timeoutMs, 300_000);
  strictEqual(o.memoryMiB, 512);
  strictEqual(o.concurrency, 1);
  deepStrictEqual(o.retries, {
    maxRetries: 0,
    initialDelayMs: 1000,
    backoffCoefficient: 2,
    maxDelayMs: 60_000,
  });
  deepStrictEqual(o.image.layers, Image.deno().layers);
});

Deno.test("resolveOptions() turns a retry count into a policy and keeps a given policy", () => {
  strictEqual(resolveOptions("f", { retries: 3 }).retries.maxRetries, 3);
  const p = resolveOptions("f", { retries: { maxRetries: 2, initialDelayMs: 5 } }).retries;
  deepStrictEqual(p, {
    maxRetries: 2,
    initialDelayMs: 5,
    backoffCoefficient: 2,
    maxDelayMs: 60_000,
  });
});

Deno.test("a misspelt option is an InvalidError naming the nearest valid one", () => {
  throws(
    () => resolveOptions("f", { timeoutMS: 5 } as never),
    (e: Error) =>
      e instanceof InvalidError &&
      e.message === 'Unknown option "timeoutMS" in the options of f: did you mean "timeoutMs"?',
  );
  throws(
    () => resolveOptions("f", { retries: { maxRetires: 1 } } as never),
    /did you mean "maxRetries"/,
  );
  throws(() => resolveOptions("f", { zzzzzzzz: 1 } as never), /valid options are image, timeoutMs/);
});

Deno.test("out-of-range values say the allowed range", () => {
  throws(
    () => resolveOptions("f", { timeoutMs: 0 }),
    /timeoutMs in the options of f must be a whole number from 1/,
  );
  throws(() => resolveOptions("f", { memoryMiB: 1.5 }), /memoryMiB/);
  throws(() => resolveOptions("f", { cpu: -1 }), /cpu/);
  throws(
    () => resolveOptions("f", { minContainers: 5, maxContainers: 2 }),
    /exceeds maxContainers/,
  );
  throws(() => resolveOptions("f", { image: "debian" as never }), /must be an Image/);
});

// End-to-end: functions call functions from inside their sandboxes, over the sandbox's socket
// (no network: blockNetwork), on both runners; nesting depth is limited.
import { match, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, startServe, tempDir } from "./_cli.ts";

const NEST = `import { App, RemoteFunction } from "${ROOT}sdk/mod.ts";
const app = new App("nest");
const opts = { blockNetwork: true, timeoutMs: 120_000 };
export const square = app.function(opts, function square(x: number) {
  return x * x;
});
export const sumSquares = app.function(opts, async function sumSquares(n: number) {
  let total = 0;
  for await (const y of square.map(Array.from({ length: n }, (_, i) => i))) total += y;
  const call = await square.spawn(4);
  return total + (await square.remote(3)) + (await call.get());
});
export const down = app.function(opts, async function countdown(n: number): Promise<number> {
  return n === 0 ? 0 : 1 + (await down.remote(n - 1));
});
export const viaName = app.function(opts, async function viaName(x: number) {
  return await RemoteFunction.fromName<(x: number) => number>("lib", "triple").remote(x);
});
export const token = app.function(opts, function token() {
  return Object.keys(Deno.env.toObject()).filter((k) => k.startsWith("NANO_MODAL")).join(",");
});
`;

const LIB = `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("lib");
export const triple = app.function(function triple(x: number) {
  return 3 * x;
});
`;

async function files(): Promise<{ nest: string; lib: string }> {
  const dir = await tempDir("nm-nest-");
  await Deno.writeTextFile(`${dir}/nest.ts`, NEST);
  await Deno.writeTextFile(`${dir}/lib.ts`, LIB);
  return { nest: `${dir}/nest.ts`, lib: `${dir}/lib.ts` };
}

for (const runner of ["deno", "docker"]) {
  Deno.test(`${runner} runner: remote, map and spawn from inside a function with blockNetwork; depth is limited`, async () => {
    const { nest, lib } = await files();
    const cache = await tempDir(`nm-nest-${runner}-`);
    const cp = await startServe(["--with-workers", "--runner", runner], {
      env: { NANO_MODAL_CACHE: cache },
    });
    const run = (target: string, ...args: string[]) =>
      runCli(["run", target, "--server", cp.url, "--", ...args], { timeoutMs: 300_000 });
    try {
      const sum = await run(`${nest}::sumSquares`, "5");
      check(sum.code === 0, "sumSquares", sum);
      strictEqual(sum.stdout, "55\n");
      const ok = await run(`${nest}::countdown`, "3");
      strictEqual(ok.stdout, "3\n", ok.stderr);
      const deep = await run(`${nest}::countdown`, "12");
      strictEqual(deep.code, 1);
      match(deep.stderr, /InvalidError: Calls from inside functions nest at most 8 deep/);
      strictEqual(deep.stderr.match(/RemoteError/g)?.length, 1, "one error, not one per level");
      const d = await runCli(["deploy", lib, "--server", cp.url]);
      check(d.code === 0, "deploy lib", d);
      const named = await run(`${nest}::viaName`, "14");
      strictEqual(named.stdout, "42\n", named.stderr);
      const env = await run(`${nest}::token`);
      strictEqual(env.stdout, "\n", "no credential reaches user code");
    } finally {
      await cp.proc.stop();
    }
  });
}

// End-to-end: timeouts, memory limits, retries and sandboxes that die, on the deno runner.
import { match, strictEqual } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, writeApp } from "./_cli.ts";

const SDK = JSON.stringify(`${ROOT}sdk/mod.ts`);

async function runApp(source: string) {
  const file = await writeApp(source);
  try {
    return await runCli(["run", "--runner", "deno", file], { timeoutMs: 60_000 });
  } finally {
    await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  }
}

Deno.test("a function past its timeoutMs fails with FunctionTimeoutError and the worker goes on", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("timeouts");
export const slow = app.function({ timeoutMs: 300 }, async function slow(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
app.localEntrypoint(async () => {
  const t = performance.now();
  try { await slow.remote(10_000); } catch (e) { console.log((e as Error).name, (e as Error).message); }
  console.log("waited", performance.now() - t < 5_000);
  console.log("next", await slow.remote(5));
});
`);
  check(r.code === 0, "exit code 0", r);
  match(r.stdout, /^FunctionTimeoutError slow timed out after 300 ms: raise timeoutMs/m);
  match(r.stdout, /^waited true$/m);
  match(r.stdout, /^next 5$/m);
});

Deno.test("a function past its memoryMiB fails with a clear out-of-memory error and the worker goes on", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("memory");
export const hog = app.function({ memoryMiB: 64 }, function hog(small: boolean) {
  if (small) return "fine";
  const keep: number[][] = [];
  while (true) keep.push(new Array(1_000_000).fill(1.5));
});
app.localEntrypoint(async () => {
  try { await hog.remote(false); } catch (e) { console.log((e as Error).name, (e as Error).message); }
  console.log("next", await hog.remote(true));
});
`);
  check(r.code === 0, "exit code 0", r);
  match(r.stdout, /^OutOfMemoryError hog ran out of memory \(limit 64 MiB\): raise memoryMiB/m);
  match(r.stdout, /^next fine$/m);
  check(!/Last few GCs|C stack trace/.test(r.stderr + r.stdout), "no V8 crash dump", r);
});

Deno.test("retries re-run a failing function with backoff until it succeeds or gives up", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("retries");
const g = globalThis as unknown as { tries?: number };
export const flaky = app.function(
  { retries: { maxRetries: 3, initialDelayMs: 50, backoffCoefficient: 2 } },
  function flaky() {
    g.tries = (g.tries ?? 0) + 1;
    if (g.tries < 3) throw new Error("try " + g.tries);
    return g.tries;
  },
);
export const hopeless = app.function({ retries: 2 }, function hopeless() {
  throw new SyntaxError("never");
});
app.localEntrypoint(async () => {
  console.log("flaky", await flaky.remote());
  const t = performance.now();
  try { await hopeless.remote(); } catch (e) { console.log("hopeless", (e as Error).message); }
});
`);
  check(r.code === 0, "exit code 0", r);
  match(r.stdout, /^flaky 3$/m);
  match(r.stdout, /^hopeless SyntaxError: never$/m);
});

Deno.test("an input whose sandbox is killed mid-call runs again and its result arrives once", async () => {
  const appName = `victim-${crypto.randomUUID().slice(0, 8)}`;
  const file = await writeApp(`import { App } from ${SDK};
const app = new App(${JSON.stringify(appName)});
export const victim = app.function(async function victim(x: number) {
  console.log("victim running in", Deno.cwd());
  await new Promise((r) => setTimeout(r, 1_500));
  return x * 2;
});
app.localEntrypoint(async () => {
  const out: number[] = [];
  for await (const y of victim.map([21])) out.push(y);
  console.log("result", JSON.stringify(out));
});
`);
  const proc = new CliProcess(["run", "--runner", "deno", file]);
  try {
    // The sandbox's own directory (its working dir's parent) is on its command line; its app's
    // name need not be (the first sandbox of a run may be a spare started before the app was known).
    const cwd = (await proc.waitFor(/victim running in (\S+)/))[1];
    const sandboxDir = cwd.slice(0, cwd.lastIndexOf("/"));
    const kill = await new Deno.Command("pkill", { args: ["-9", "-f", `${sandboxDir}/`] }).output();
    strictEqual(kill.code, 0, "pkill found the sandbox");
    strictEqual(await proc.exited(), 0);
    match(proc.stdout, /^result \[42\]$/m);
    strictEqual(proc.stdout.match(/victim running/g)?.length, 2, proc.stdout);
  } finally {
    await proc.stop("SIGKILL");
    await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("a module that throws while loading in the sandbox reports the error, not a hang", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("broken");
export const f = app.function(function f() { return 1; });
const inSandbox = (globalThis as Record<symbol, { mode?: string }>)[Symbol.for("nano-modal.runtime")]?.mode === "container";
if (inSandbox) throw new Error("cannot load config");
app.localEntrypoint(async () => {
  try { await f.remote(); } catch (e) { console.log((e as Error).name, (e as Error).message); }
});
`);
  check(r.code === 0, "exit code 0", r);
  match(r.stdout, /^RemoteError Error: Loading the app failed: cannot load config$/m);
});

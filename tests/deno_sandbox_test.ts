// End-to-end: what the deno runner's sandboxes may and may not do, and how they are reused.
import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, writeApp } from "./_cli.ts";

const SDK = JSON.stringify(`${ROOT}sdk/mod.ts`);

async function runApp(source: string, env: Record<string, string> = {}) {
  const file = await writeApp(source);
  try {
    const r = await runCli(["run", "--runner", "deno", file], { env });
    check(r.code === 0, "exit 0", r);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  } finally {
    await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  }
}

Deno.test("a deno sandbox cannot run programs, read the host, or see the worker's environment", async () => {
  const result = await runApp(
    `import { App } from ${SDK};
const app = new App("sandboxed");
const attempt = async (f: () => unknown) => {
  try { await f(); return "allowed"; } catch (e) { return (e as Error).name; }
};
export const probe = app.function(async function probe() {
  return {
    run: await attempt(() => new Deno.Command("/bin/true").output()),
    read: await attempt(() => Deno.readTextFile("/etc/passwd")),
    write: await attempt(() => Deno.writeTextFile("/etc/nano-modal-escape", "x")),
    ffi: await attempt(() => Deno.dlopen("libc.so.6", {})),
    canary: Deno.env.get("NANO_MODAL_CANARY") ?? "absent",
    tmp: await attempt(async () => await Deno.writeTextFile((Deno.env.get("TMPDIR") ?? "/nope") + "/ok", "x")),
  };
});
export const online = app.function(async function online() {
  return await attempt(() => fetch("http://127.0.0.1:59998/"));
});
export const offline = app.function({ blockNetwork: true }, async function offline() {
  return await attempt(() => fetch("http://127.0.0.1:59998/"));
});
app.localEntrypoint(async () => {
  console.log(JSON.stringify({ ...(await probe.remote()), online: await online.remote(), offline: await offline.remote() }));
});
`,
    { NANO_MODAL_CANARY: "secret-value" },
  );
  deepStrictEqual(result, {
    run: "NotCapable",
    read: "NotCapable",
    write: "NotCapable",
    ffi: "NotCapable",
    canary: "absent",
    tmp: "allowed",
    online: "NotCapable", // the host's loopback is never reachable (see hostile_function_test.ts)
    offline: "NotCapable",
  });
});

Deno.test("sandboxes are reused while warm, run `concurrency` inputs at once, and stop after scaledownWindowMs", async () => {
  const result = await runApp(`import { App } from ${SDK};
const app = new App("warmth");
// In its own PID namespace every sandbox is pid 2: tell sandboxes apart by an id of their own.
const g = globalThis as { sandboxId?: string };
const sandboxId = () => g.sandboxId ??= crypto.randomUUID();
export const pid = app.function({ scaledownWindowMs: 300 }, function pid() {
  return sandboxId();
});
export const nap = app.function({ concurrency: 4, maxContainers: 1 }, async function nap() {
  await new Promise((r) => setTimeout(r, 400));
  return sandboxId();
});
app.localEntrypoint(async () => {
  const first = await pid.remote();
  const again = await pid.remote();
  await new Promise((r) => setTimeout(r, 2_000));
  const later = await pid.remote();
  await nap.remote(); // warm up
  const t = performance.now();
  const pids = [];
  for await (const p of nap.map([1, 2, 3, 4])) pids.push(p);
  console.log(JSON.stringify({ first, again, later, napMs: performance.now() - t, napPids: new Set(pids).size }));
});
`);
  strictEqual(result.first, result.again, "a warm sandbox serves the next input");
  notStrictEqual(result.later, result.first, "an idle sandbox stops after its scale-down window");
  ok(result.napMs < 1_200, `four 400 ms inputs ran at once in one sandbox (${result.napMs} ms)`);
  strictEqual(result.napPids, 1);
});

// A spare deno sandbox (started before any function is known) becomes the first sandbox that
// would have started identically, with the same walls; any other sandbox starts on its own.
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { create } from "../proto/deps.ts";
import { FunctionDefSchema } from "../proto/messages.ts";
import { decodeValue, encodeValue } from "../proto/payload.ts";
import { entrypointFile } from "./_entrypoint_file.ts";
import { keepHost } from "./_host_cache.ts";
import {
  LINKABLE_SDK_SUFFIX,
  SDK_END_MARK,
  sdkModule,
  splitBundle,
} from "../proto/bundle_format.ts";
import { WarmSandbox } from "./_warm_sandbox.ts";
import { DenoRunner } from "./deno_runner.ts";

const options = { sanitizeOps: false, sanitizeResources: false };

const BUNDLE = `
const rt = globalThis[Symbol.for("nano-modal.runtime")];
const attempt = async (f) => { try { return String(await f()); } catch (e) { return e.name; } };
rt.apps.push({ name: "unit", functions: new Map([
  ["probe", async (port) => ({
    loopback: await attempt(async () => (await Deno.connect({ hostname: "127.0.0.1", port })).close()),
    etc: await attempt(() => Deno.readTextFileSync("/etc/passwd")),
    cwd: Deno.cwd(),
    pid: Deno.pid,
  })],
]) });
`;

async function setUp(bubblewrap: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-spare-unit-" });
  await Deno.writeTextFile(`${dir}/bundle.js`, BUNDLE);
  await Deno.mkdir(`${dir}/sandboxes`);
  const runner = new DenoRunner({ denoDir: `${dir}/deno`, bubblewrap, log: () => {} });
  const entrypointPath = await entrypointFile(dir);
  const start = (
    name: string,
    blockNetwork = false,
    bundle = "bundle.js",
    onOutput: (fd: 1 | 2, text: string) => void = () => {},
  ) =>
    WarmSandbox.start(runner, {
      sandboxId: `nm-unit-${name}-${Deno.pid}-${crypto.randomUUID().slice(0, 4)}`,
      appId: "ap-unit",
      appName: "unit",
      functionName: name,
      def: create(FunctionDefSchema, {
        name: "probe",
        timeoutMs: 60_000,
        memoryMib: 64,
        concurrency: 1,
        blockNetwork,
      }),
      bundlePath: `${dir}/${bundle}`,
      entrypointPath,
      onOutput,
    }, { rootDir: `${dir}/sandboxes` });
  return { dir, runner, start };
}

async function spares(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(`${dir}/sandboxes`)))
    .map((e) => e.name).filter((n) => n.startsWith("nm-spare-"));
}

for (const bubblewrap of [true, false]) {
  const where = bubblewrap ? "inside bubblewrap" : "without bubblewrap";
  Deno.test({
    name: `${where}, a spare sandbox runs the first sandbox that fits it, behind the same walls`,
    ...options,
    async fn() {
      const { dir, runner, start } = await setUp(bubblewrap);
      runner.prestart({ cacheDir: dir, memoryMib: 64 });
      // A real process: time for it to boot and reach its wait (one that did not wait for its
      // app would have died by now, failing to connect, and not run the input below).
      await new Promise((r) => setTimeout(r, 1_500));
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const warm = await start("probe");
      try {
        const done = await warm.run("in-1", encodeValue([(listener.addr as Deno.NetAddr).port]), {
          fn: "probe",
        });
        ok(done.ok, JSON.stringify(done.error));
        const probed = decodeValue(done.payload!) as Record<string, unknown>;
        match(String(probed.cwd), /\/nm-spare-x-\d+-\d+\/tmp$/, "the spare ran it");
        strictEqual(probed.loopback, "NotCapable");
        strictEqual(probed.etc, "NotCapable");
        if (bubblewrap) strictEqual(probed.pid, 2, "in its own PID namespace");
      } finally {
        await warm.stop();
        listener.close();
      }
      const second = await start("probe");
      const again = await second.run("in-2", encodeValue([1]), { fn: "probe" });
      ok(!String((decodeValue(again.payload!) as { cwd: string }).cwd).includes("nm-spare"));
      await second.stop();
      await runner.dropSpare();
      await Deno.remove(dir, { recursive: true });
    },
  });

  Deno.test({
    name: `${where}, a sandbox that would start otherwise (blockNetwork) starts on its own`,
    ...options,
    async fn() {
      const { dir, runner, start } = await setUp(bubblewrap);
      runner.prestart({ cacheDir: dir, memoryMib: 64 });
      const warm = await start("probe", true);
      const done = await warm.run("in-1", encodeValue([1]), { fn: "probe" });
      ok(done.ok, JSON.stringify(done.error));
      const probed = decodeValue(done.payload!) as Record<string, unknown>;
      ok(!String(probed.cwd).includes("nm-spare"), "not the spare");
      await warm.stop();
      // The spare was stopped, and its directory went with it.
      for (let i = 0; i < 100 && (await spares(dir)).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      strictEqual((await spares(dir)).length, 0);
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test({
  name: "an unused spare sandbox is stopped by dropSpare(), its directory removed",
  ...options,
  async fn() {
    const { dir, runner } = await setUp(true);
    runner.prestart({ cacheDir: dir, memoryMib: 64 });
    for (let i = 0; i < 200 && (await spares(dir)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    strictEqual((await spares(dir)).length, 1);
    await runner.dropSpare();
    strictEqual((await spares(dir)).length, 0);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "a kept spare is there for each new sandbox that fits: taken, it is started again; one that does not fit leaves it; stopping keeping ends it",
  ...options,
  async fn() {
    const { dir, runner, start } = await setUp(true);
    const waitSpares = async (n: number) => {
      for (let i = 0; i < 300 && (await spares(dir)).length !== n; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return (await spares(dir)).length;
    };
    const stopKeeping = runner.keepSpare({ cacheDir: dir, memoryMib: 64 });
    strictEqual(await waitSpares(1), 1);
    const ranIn = async (warm: Awaited<ReturnType<typeof start>>) => {
      const done = await warm.run(crypto.randomUUID(), encodeValue([1]), { fn: "probe" });
      ok(done.ok, JSON.stringify(done.error));
      return String((decodeValue(done.payload!) as { cwd: string }).cwd);
    };
    // One that would start otherwise starts on its own, and the spare stays.
    const blocked = await start("probe", true);
    ok(!(await ranIn(blocked)).includes("nm-spare"));
    strictEqual((await spares(dir)).length, 1);
    const [kept] = await spares(dir);
    // Two sandboxes that fit, one after the other: each runs in a spare, the second in a new one.
    const first = await start("probe");
    match(await ranIn(first), new RegExp(`/${kept}/tmp$`));
    // The next spare starts a while after (SPARE_REFILL_MS), not while the first sandbox starts.
    const fresh = async () => (await spares(dir)).filter((n) => n !== kept).length;
    for (let i = 0; i < 300 && (await fresh()) === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    strictEqual(await fresh(), 1, "a new spare was started");
    await new Promise((r) => setTimeout(r, 1_000)); // time to boot and wait for its app
    const second = await start("probe");
    const cwd = await ranIn(second);
    match(cwd, /\/nm-spare-x-\d+-\d+\/tmp$/);
    ok(!cwd.includes(`/${kept}/`), "a spare of its own");
    for (const w of [blocked, first, second]) await w.stop();
    await stopKeeping();
    // Stopped keeping: the spare started after the second was taken is gone, none comes back.
    await new Promise((r) => setTimeout(r, 800));
    strictEqual(await waitSpares(0), 0);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "a kept spare started on a host's answers that the probe no longer gives is replaced, not kept",
  ...options,
  async fn() {
    const { dir, runner, start } = await setUp(true);
    // The last run's answers, kept in the cache dir, say there is no bubblewrap: the first spare
    // starts on them (before this runner's probe answers), the probe then says otherwise.
    await keepHost(dir, Deno.execPath(), {
      bwrap: null,
      cgroupParent: null,
      setpriv: false,
      denied: [],
    });
    const stopKeeping = runner.keepSpare({ cacheDir: dir, memoryMib: 64 });
    const [stale] = await waitFor(() => spares(dir), (s) => s.length === 1);
    const cwd = async (warm: Awaited<ReturnType<typeof start>>) => {
      const done = await warm.run(crypto.randomUUID(), encodeValue([1]), { fn: "probe" });
      ok(done.ok, JSON.stringify(done.error));
      return String((decodeValue(done.payload!) as { cwd: string }).cwd);
    };
    const first = await start("probe");
    ok(!(await cwd(first)).includes("nm-spare-"), "not in the stale spare");
    const [fresh] = await waitFor(
      () => spares(dir),
      (s) => s.length === 1 && s[0] !== stale,
    );
    const second = await start("probe");
    match(await cwd(second), new RegExp(`/${fresh}/tmp$`));
    for (const w of [first, second]) await w.stop();
    await stopKeeping();
    await Deno.remove(dir, { recursive: true });
  },
});

/** A bundle linked as the SDK links them, whose SDK part counts its loads and says its name. */
function linkedBundle(sdkName: string, loadsPrint = ""): string {
  const sdk = `const __nano_modal_sdk = await (async () => {${loadsPrint}
globalThis.sdkLoads = (globalThis.sdkLoads ?? 0) + 1; globalThis.sdkName = ${
    JSON.stringify(sdkName)
  };
return { rt: () => globalThis[Symbol.for("nano-modal.runtime")] };
})();`;
  return `${sdk}${SDK_END_MARK} const { rt } = __nano_modal_sdk;
rt().apps.push({ name: "unit", functions: new Map([
  ["probe", () => ({ cwd: Deno.cwd(), loads: globalThis.sdkLoads, sdk: globalThis.sdkName })],
]) });
`;
}

Deno.test({
  name:
    "a spare that loaded an SDK ahead serves only a bundle beginning with that SDK, which then runs once",
  ...options,
  async fn() {
    const { dir, runner, start } = await setUp(true);
    const [a, b] = [linkedBundle("A"), linkedBundle("B")];
    await Deno.writeTextFile(`${dir}/a.js`, a);
    await Deno.writeTextFile(`${dir}/b.js`, b);
    // The SDK kept from the last run is A's.
    await Deno.writeTextFile(`${dir}/spare-sdk.js`, sdkModule(a, splitBundle(a)!.sdkPart));
    const stopKeeping = runner.keepSpare({ cacheDir: dir, memoryMib: 64, preloadSdk: true });
    const ran = async (bundle: string) => {
      const warm = await start("probe", false, bundle);
      const done = await warm.run(crypto.randomUUID(), encodeValue([]), { fn: "probe" });
      ok(done.ok, JSON.stringify(done.error));
      await warm.stop();
      return decodeValue(done.payload!) as { cwd: string; loads: number; sdk: string };
    };
    const [first] = await waitFor(() => spares(dir), (s) => s.length === 1);
    await waitFor(async () => {
      try {
        return (await Deno.readTextFile(`${dir}/sandboxes/${first}/sdk.js`)).includes('"A"');
      } catch {
        return false;
      }
    }, (loaded) => loaded);
    // B's bundle: not the spare's SDK, so not the spare (which goes); B's own SDK ran once.
    const inB = await ran("b.js");
    ok(!inB.cwd.includes("nm-spare-"), inB.cwd);
    deepStrictEqual([inB.sdk, inB.loads], ["B", 1]);
    // A's bundle, twice: the spare started after B's loaded B's SDK, so A's first runs on its
    // own; the one started after that loaded A's, and A's second runs in it, its SDK once.
    const fresh = async (seen: string[]) =>
      (await waitFor(() => spares(dir), (s) => s.some((n) => !seen.includes(n))))
        .find((n) => !seen.includes(n))!;
    const second = await fresh([first]);
    const inA = await ran("a.js");
    ok(!inA.cwd.includes("nm-spare-"), inA.cwd);
    deepStrictEqual([inA.sdk, inA.loads], ["A", 1]);
    const third = await fresh([first, second]);
    await new Promise((r) => setTimeout(r, 1_000)); // time to load its SDK
    const again = await ran("a.js");
    match(again.cwd, new RegExp(`/${third}/tmp$`));
    deepStrictEqual([again.sdk, again.loads], ["A", 1]);
    // A bundle linked to no SDK: not for the spare that loaded A's either; the next spare loads
    // nothing, and the next such bundle runs in it.
    const fourth = await fresh([first, second, third]);
    await new Promise((r) => setTimeout(r, 1_000));
    ok(!(await ran("bundle.js")).cwd.includes("nm-spare-"));
    const fifth = await fresh([first, second, third, fourth]);
    await new Promise((r) => setTimeout(r, 1_000));
    const hasSdk = await Deno.stat(`${dir}/sandboxes/${fifth}/sdk.js`).then(
      () => true,
      () => false,
    );
    strictEqual(hasSdk, false, "the spare after an unlinked bundle loads no SDK");
    match((await ran("bundle.js")).cwd, new RegExp(`/${fifth}/tmp$`));
    await stopKeeping();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "a worker's spare loads only an SDK built here; a bundle of another SDK leaves it waiting for the next that fits",
  ...options,
  async fn() {
    const { dir, runner, start } = await setUp(true);
    const [a, c] = [linkedBundle("A"), linkedBundle("C")];
    await Deno.writeTextFile(`${dir}/a.js`, a);
    await Deno.writeTextFile(`${dir}/c.js`, c);
    // A is the SDK this host's own run built (its link-ready form in the cache); C a client's.
    await Deno.mkdir(`${dir}/bundles`);
    await Deno.writeTextFile(
      `${dir}/bundles/sdk.js${LINKABLE_SDK_SUFFIX}`,
      JSON.stringify({ code: splitBundle(a)!.sdkPart }),
    );
    await Deno.writeTextFile(`${dir}/spare-sdk.js`, sdkModule(a, splitBundle(a)!.sdkPart));
    const stopKeeping = runner.keepSpare({
      cacheDir: dir,
      memoryMib: 64,
      preloadSdk: "built-here",
    });
    const ran = async (bundle: string) => {
      const warm = await start("probe", false, bundle);
      const done = await warm.run(crypto.randomUUID(), encodeValue([]), { fn: "probe" });
      ok(done.ok, JSON.stringify(done.error));
      await warm.stop();
      return decodeValue(done.payload!) as { cwd: string; sdk: string };
    };
    const [first] = await waitFor(() => spares(dir), (s) => s.length === 1);
    await waitFor(
      () => Deno.readTextFile(`${dir}/sandboxes/${first}/sdk.js`).catch(() => ""),
      (t) => t.includes('"A"'),
    );
    const inC = await ran("c.js");
    ok(!inC.cwd.includes("nm-spare-"), inC.cwd);
    strictEqual(inC.sdk, "C");
    await new Promise((r) => setTimeout(r, 800)); // past the refill delay
    deepStrictEqual(await spares(dir), [first], "the spare stays: no spare is wasted on C");
    strictEqual(
      await Deno.readTextFile(`${dir}/sandboxes/${first}/sdk.js`).then((t) => t.includes('"C"')),
      false,
    );
    const inA = await ran("a.js");
    match(inA.cwd, new RegExp(`/${first}/tmp$`));
    strictEqual(inA.sdk, "A");
    await stopKeeping();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "what a spare prints before it has its app is kept for it up to 64 KiB, no more",
  ...options,
  async fn() {
    const { dir, runner, start } = await setUp(true);
    // An SDK part (learned from some app's bundle) that prints 1 MB as it loads, ahead.
    const noisy = linkedBundle("N", ` console.log("x".repeat(1_000_000));`);
    await Deno.writeTextFile(`${dir}/n.js`, noisy);
    await Deno.writeTextFile(`${dir}/spare-sdk.js`, sdkModule(noisy, splitBundle(noisy)!.sdkPart));
    const stopKeeping = runner.keepSpare({ cacheDir: dir, memoryMib: 64, preloadSdk: true });
    const [spare] = await waitFor(() => spares(dir), (s) => s.length === 1);
    await new Promise((r) => setTimeout(r, 1_500)); // time to load it, and print
    let printed = 0;
    const warm = await start("probe", false, "n.js", (_fd, text) => printed += text.length);
    const done = await warm.run(crypto.randomUUID(), encodeValue([]), { fn: "probe" });
    ok(done.ok, JSON.stringify(done.error));
    match((decodeValue(done.payload!) as { cwd: string }).cwd, new RegExp(`/${spare}/tmp$`));
    ok(printed > 0 && printed <= 64 * 1024, `${printed} characters kept`);
    await warm.stop();
    await stopKeeping();
    await Deno.remove(dir, { recursive: true });
  },
});

/** Polls `get` until `done` holds (10 s at most); returns the last value. */
async function waitFor<T>(get: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await get();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out");
}

// End-to-end, on both runners: functions that attack their host (loopback TCP to the control plane,
// Redis and listeners on 127.0.0.1 / ::1 / 0.0.0.0; the worker's token through env and /proc; the
// checkout; the Docker socket; writes outside their temp dir; memory, disk and fork bombs; huge
// results; poisoned errors; Deno.exit and uncaught errors) are denied or fail cleanly, each on its
// own, while an innocent function running at the same time gets correct results. Also: a worker
// killed with SIGKILL leaves no sandbox running, and a crashed sandbox leaves no files.
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { connectDocker, dockerReachable, dockerSocketPath } from "../runner/mod.ts";
import { check, CliProcess, ROOT, runCli, startServe, writeApp } from "./_cli.ts";
import { startRedis } from "./_redis_server.ts";
import { processesWith } from "./_processes.ts";

const SDK = JSON.stringify(`${ROOT}sdk/mod.ts`);
const dockerUp = await dockerReachable(dockerSocketPath(), 3_000);

/** A TCP listener that counts who reached it. */
function canary(hostname: string) {
  const listener = Deno.listen({ hostname, port: 0 });
  const state = { port: (listener.addr as Deno.NetAddr).port, reached: 0, close: () => {} };
  (async () => {
    for await (const conn of listener) {
      state.reached++;
      conn.close();
    }
  })().catch(() => {});
  state.close = () => listener.close();
  return state;
}

/** One Redis command over raw RESP; returns the reply's text. */
async function redisCommand(port: number, ...args: string[]): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const body = args.map((a) => `$${new TextEncoder().encode(a).length}\r\n${a}\r\n`).join("");
    await conn.write(new TextEncoder().encode(`*${args.length}\r\n${body}`));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

/** Non-loopback addresses of this host (IPv6 link-local ones need a scope: left out). */
function hostAddresses(): { family: string; address: string }[] {
  return Deno.networkInterfaces().filter((i) =>
    !i.address.startsWith("127.") && i.address !== "::1" && !i.address.startsWith("fe80")
  );
}

async function attack(runner: "deno" | "docker") {
  const redis = await startRedis();
  const canaries = { v4: canary("127.0.0.1"), v6: canary("::1"), any: canary("0.0.0.0") };
  const token = `tok-${crypto.randomUUID()}`;
  const cache = await Deno.makeTempDir({ prefix: `nano-modal-hostile-${runner}-` });
  const outside = await Deno.makeTempDir({ prefix: "nano-modal-outside-" });
  const env = { NANO_MODAL_TOKEN: token, NANO_MODAL_CACHE: cache };
  const { proc: server, url } = await startServe(["--with-workers", "--runner", runner], { env });
  try {
    await redisCommand(redis.port, "SET", "canary", "still here");
    const cp = Number(new URL(url).port);
    const tcp: [string, string, number][] = [
      ["controlPlane 127.0.0.1", "127.0.0.1", cp],
      ["controlPlane ::1", "::1", cp],
      ["controlPlane localhost", "localhost", cp],
      ["redis 127.0.0.1", "127.0.0.1", redis.port],
      ["redis localhost", "localhost", redis.port],
      ["canary 127.0.0.1", "127.0.0.1", canaries.v4.port],
      ["canary 127.1.2.3", "127.1.2.3", canaries.v4.port],
      ["canary ::1", "::1", canaries.v6.port],
      ["canary ::ffff:127.0.0.1", "::ffff:127.0.0.1", canaries.v4.port],
      ["canary localhost v6", "localhost", canaries.v6.port],
      ["canary 0.0.0.0", "0.0.0.0", canaries.any.port],
      ["canary ::", "::", canaries.v6.port],
      ["host host.docker.internal", "host.docker.internal", canaries.any.port],
      ...hostAddresses().map((a): [string, string, number] => [
        `host ${a.address}`,
        a.address,
        canaries.any.port,
      ]),
    ];
    const targets = {
      tcp,
      redisPort: redis.port,
      controlPlane: url,
      token,
      checkout: ROOT,
      outside,
    };
    const started = performance.now();
    const r = await runCli(
      ["run", "--server", url, "tests/fixtures/hostile.ts", "--", JSON.stringify(targets)],
      { env, timeoutMs: 180_000 },
    );
    check(r.code === 0, "exit code 0", r);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    const seen = { ...canaries, redisKey: await redisCommand(redis.port, "GET", "canary") };
    return { out, r, seen, outside, ms: performance.now() - started };
  } finally {
    await server.stop();
    await redis.stop();
    for (const c of Object.values(canaries)) c.close();
    await Deno.remove(cache, { recursive: true }).catch(() => {});
    await Deno.remove(outside, { recursive: true }).catch(() => {});
  }
}

/** What both runners must show. */
// deno-lint-ignore no-explicit-any
function commonChecks(runner: string, { out, r, seen }: any) {
  const printed = r.stdout + r.stderr;
  for (const [label, result] of Object.entries(out.probed.tcp)) {
    if (runner === "docker" && label.startsWith("host ")) continue; // the host gateway, on purpose
    ok(result !== "connected", `${runner}: ${label} must be unreachable, got ${result}`);
  }
  strictEqual(seen.v4.reached, 0, "nothing reached the 127.0.0.1 canary");
  strictEqual(seen.v6.reached, 0, "nothing reached the ::1 canary");
  match(seen.redisKey, /still here/, "Redis kept its data");
  ok(!String(out.probed.fetchControlPlane).startsWith("status"), out.probed.fetchControlPlane);
  strictEqual(out.probed.tokenSeen, false, "the worker's token is nowhere in the sandbox");
  ok(out.probed.checkout !== "read", "the checkout is out of reach");
  ok(out.probed.dockerSocket !== "connected", "the Docker socket is out of reach");
  ok(out.probed.writeOutside !== "ok", `writes outside: ${out.probed.writeOutside}`);
  strictEqual(out.probed.writeTmp, "ok", "its own temp dir is writable");

  strictEqual(out.memory.name, "OutOfMemoryError", JSON.stringify(out.memory));
  ok(!("value" in out.disk), `the temp dir is capped: ${JSON.stringify(out.disk)}`);
  // deno: no subprocesses at all (below); docker: the container's pids limit bounds them.
  ok("value" in out.fork || out.fork.name, `fork bomb ended: ${JSON.stringify(out.fork)}`);

  strictEqual(out.big.name, "ResultTooLargeError", JSON.stringify(out.big));
  match(out.big.message, /huge returned 100\.0 MiB, over the 32 MiB limit/);

  const p = out.poisoned;
  ok(p.ms < 15_000, `poisoned errors fail at once (${p.ms} ms), not at timeoutMs`);
  deepStrictEqual(p.results.fine, { value: "fine" });
  strictEqual(p.results.symbolName.remoteName, "evil");
  match(p.results.symbolName.message, /poisoned symbolName/);
  match(p.results.throwingName.message, /poisoned throwingName/);
  match(p.results.numberStack.message, /poisoned numberStack/);
  match(p.results.proxy.message, /cannot be described/);
  match(p.results.nullPrototype.message, /Uncaught non-Error value/);

  strictEqual(out.exited.remoteName, "SandboxExitError", JSON.stringify(out.exited));
  match(out.exited.message, /exiter called Deno\.exit\(3\)/);
  strictEqual(printed.match(/exiter attempt/g)?.length, 3, "Deno.exit counts against retries");
  strictEqual(out.late.remoteName, "RangeError", JSON.stringify(out.late));
  match(out.late.message, /thrown from a timer/);
  strictEqual(printed.match(/lateThrower attempt/g)?.length, 2, "so does an uncaught error");
  for (const e of [out.exited, out.late]) {
    ok(!/entrypoint|ext:|_protocol/.test(e.stack), `no internal frames: ${e.stack}`);
  }

  deepStrictEqual(out.squares, Array.from({ length: 40 }, (_, i) => i * i));
  strictEqual(out.after, 144, "the worker goes on after all of it");
}

Deno.test("hostile functions on the deno runner are denied or fail on their own; an innocent one is unaffected", async () => {
  const result = await attack("deno");
  if (Deno.env.get("HOSTILE_DEBUG")) console.log(JSON.stringify(result.out, null, 1));
  commonChecks("deno", result);
  const { out, seen, outside } = result;
  strictEqual(seen.any.reached, 0, "nothing reached the host's own addresses");
  for (const key of ["procSelf", "procParent", "procInit"]) {
    ok(out.probed[key] !== "read", `${key}: ${out.probed[key]}`);
  }
  strictEqual(out.fork.remoteName, "NotCapable");
  strictEqual(out.probed.tcp["controlPlane 127.0.0.1"], "NotCapable");
  ok(!(await Deno.stat(`${outside}/escaped`).catch(() => null)));
});

Deno.test("hostile functions on the docker runner are denied or fail on their own; an innocent one is unaffected", async () => {
  ok(dockerUp, `No Docker daemon answers at ${dockerSocketPath()}: start dockerd`);
  const result = await attack("docker");
  if (Deno.env.get("HOSTILE_DEBUG")) console.log(JSON.stringify(result.out, null, 1));
  commonChecks("docker", result);
  // A service the user runs on the host on purpose (bound beyond loopback) stays reachable.
  strictEqual(result.out.probed.tcp["host host.docker.internal"], "connected");
});

async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const runner of ["deno", "docker"] as const) {
  Deno.test(`kill -9 of a worker leaves no ${runner} sandbox running, and its files are reaped when a worker starts`, async () => {
    if (runner === "docker") ok(dockerUp, "start dockerd");
    const name = `spinner${crypto.randomUUID().slice(0, 8)}`;
    const dir = await Deno.makeTempDir({ prefix: "nano-modal-kill9-" });
    const cache = `${dir}/cache`;
    const file = await writeApp(
      `import { App } from ${SDK};
const app = new App(${JSON.stringify(name)});
export const ${name} = app.function(function ${name}() {
  console.log("spinning");
  while (true) { /* a busy loop never looks at its socket */ }
});
app.localEntrypoint(async () => { await ${name}.remote(); });
`,
      dir,
    );
    const env = { NANO_MODAL_CACHE: cache };
    const { proc: server, url } = await startServe([], { env });
    const worker = new CliProcess(["worker", "--server", url, "--runner", runner], { env });
    const run = new CliProcess(["run", "--server", url, file], { env });
    const docker = runner === "docker" ? await connectDocker(dockerSocketPath()) : undefined;
    const containers = async () =>
      (await docker!.listContainers({
        all: true,
        // By name: it may be the worker's spare container, which keeps a spare's labels.
        filters: { name: [`-${name}-`] },
      })).length;
    try {
      await run.waitFor(/spinning/, 90_000);
      // Its sandboxes live under its cache: the app's, and on the deno runner the spare it keeps
      // for the next app (started again after the app's first sandbox took the first one).
      if (runner === "deno") ok((await processesWith(cache)).length > 0, "the sandbox runs");
      else strictEqual(await containers(), 1);
      const deadPid = worker.child.pid;
      await worker.stop("SIGKILL");
      if (runner === "deno") {
        await until(
          "no sandbox process is left, spare included",
          async () =>
            (await processesWith(name)).length === 0 &&
            (await processesWith(cache)).length === 0,
          5_000,
        );
      } else {
        await until("no container is left", async () => (await containers()) === 0, 20_000);
      }
      // What the dead worker left on disk goes when the next worker starts.
      await run.stop("SIGKILL");
      const leftBy = async (pid: number) =>
        (await Array.fromAsync(Deno.readDir(`${cache}/sandboxes`)))
          .filter((e) => e.name.includes(`-${pid}-`)).length;
      // The app's sandbox directory, and with the deno runner its spare's if it had one then.
      ok(await leftBy(deadPid) >= 1, "the killed worker left its sandbox's directory");
      const next = new CliProcess(["worker", "--server", url, "--runner", runner], { env });
      try {
        await next.waitFor(/serving/, 30_000);
        await until(
          "stale sandbox directories are removed",
          async () => (await leftBy(deadPid)) === 0,
          10_000,
        );
      } finally {
        await next.stop("SIGKILL");
      }
    } finally {
      await run.stop("SIGKILL");
      await worker.stop("SIGKILL");
      await server.stop("SIGKILL");
      for (const pid of await processesWith(cache)) Deno.kill(pid, "SIGKILL");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("a sandbox that crashes leaves no files behind while its worker goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-crash-" });
  const file = await writeApp(
    `import { App } from ${SDK};
const app = new App("crasher");
export const crash = app.function(function crash() {
  Deno.writeFileSync(Deno.env.get("TMPDIR") + "/big", new Uint8Array(1 << 20));
  Deno.exit(3);
});
app.localEntrypoint(async () => {
  try { await crash.remote(); } catch (e) { console.log("crashed", (e as Error).message); }
  await new Promise((r) => setTimeout(r, 20_000));
});
`,
    dir,
  );
  const cache = `${dir}/cache`;
  const run = new CliProcess(["run", "--runner", "deno", file], {
    env: { NANO_MODAL_CACHE: cache },
  });
  try {
    await run.waitFor(/crashed/, 60_000);
    const left = async () => (await Array.fromAsync(Deno.readDir(`${cache}/sandboxes`))).length;
    await until("the crashed sandbox's directory is gone", async () => (await left()) === 0, 5_000);
  } finally {
    await run.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

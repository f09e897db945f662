// End-to-end on the docker runner: `nano-modal run --runner docker` as a subprocess, with
// functions that probe their container from inside (read-only root, no Docker socket,
// non-root, no network), image layers (local files, env, npm, apt), memory and time
// limits, a container killed mid-input, and build failures. Without a reachable Docker
// daemon these tests fail: they never skip.
import { match, ok, strictEqual } from "node:assert/strict";
import { connectDocker, dockerReachable, dockerSocketPath } from "../runner/mod.ts";
import { check, CliProcess, ROOT, runCli, writeApp } from "./_cli.ts";

const SDK = JSON.stringify(`${ROOT}sdk/mod.ts`);
const reachable = await dockerReachable(dockerSocketPath(), 3_000);
const cache = await Deno.makeTempDir({ prefix: "nano-modal-docker-e2e-" });
const env = { NANO_MODAL_CACHE: cache };

function requireDocker(): void {
  ok(
    reachable,
    `No Docker daemon answers at ${dockerSocketPath()}: start dockerd to run these tests`,
  );
}

async function runApp(source: string, files: Record<string, string> = {}, timeoutMs = 120_000) {
  requireDocker();
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-docker-test-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  const file = await writeApp(source, dir);
  try {
    return await runCli(["run", "--runner", "docker", file], { env, cwd: dir, timeoutMs });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("hello.ts prints 25 with --runner docker, and docker is the default when a daemon answers", async () => {
  requireDocker();
  const r = await runCli(["run", "--runner", "docker", "examples/hello.ts"], { env });
  check(r.code === 0 && r.stdout === "25\n", "prints 25", r);
  const auto = await runCli(["run", "examples/hello.ts"], { env });
  check(auto.code === 0 && auto.stdout === "25\n", "prints 25", auto);
  match(auto.stderr, /using the docker runner/);
});

Deno.test("inside the container: read-only root, no Docker socket, not root, only lo with blockNetwork; image files, env and npm packages are there", async () => {
  const r = await runApp(
    `import { App, Image } from ${SDK};
import isOdd from "npm:is-odd@3";
const app = new App("probe");
const image = Image.deno()
  .addLocalFile("./data.txt", "/data/data.txt")
  .addLocalDir("tree", "/data/tree")
  .env({ GREETING: 'say "hi" for $5' })
  .npmInstall("is-odd@3");
function probe() {
  let rootWrite = "written";
  try { Deno.writeTextFileSync("/probe", "x"); } catch (e) { rootWrite = (e as Error).message; }
  let socket = "present";
  try { Deno.statSync("/var/run/docker.sock"); } catch { socket = "absent"; }
  return {
    rootWrite,
    socket,
    uid: Deno.uid(),
    nets: [...Deno.readDirSync("/sys/class/net")].map((e) => e.name).sort().join(","),
    file: Deno.readTextFileSync("/data/data.txt"),
    tree: Deno.readTextFileSync("/data/tree/sub/b.txt") + (Deno.statSync("/data/tree/run.sh").mode! & 0o777).toString(8),
    greeting: Deno.env.get("GREETING"),
    odd: isOdd(3),
    tokens: Object.keys(Deno.env.toObject()).filter((k) => /TOKEN|NANO_MODAL/.test(k)).join(","),
  };
}
export const isolated = app.function({ image, blockNetwork: true }, function isolated() { return probe(); });
export const networked = app.function({ image }, function networked() { return probe(); });
app.localEntrypoint(async () => {
  console.log(JSON.stringify(await isolated.remote()));
  console.log(JSON.stringify(await networked.remote()));
});
`,
    { "data.txt": "local file\n", "tree/sub/b.txt": "b\n", "tree/run.sh": "#!/bin/sh\n" },
  );
  check(r.code === 0, "exit code 0", r);
  const [isolated, networked] = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  match(isolated.rootWrite, /read-only file system/i);
  strictEqual(isolated.socket, "absent");
  ok(isolated.uid !== 0, `uid ${isolated.uid}`);
  strictEqual(isolated.nets, "lo");
  ok(networked.nets.split(",").length > 1, `networked sees ${networked.nets}`);
  strictEqual(isolated.file, "local file\n");
  strictEqual(isolated.tree, "b\n644");
  strictEqual(isolated.greeting, 'say "hi" for $5');
  strictEqual(isolated.odd, true);
  strictEqual(isolated.tokens, "");
});

Deno.test("deps.ts builds a Debian image with jq once, streaming the build log; the next run reuses it", async () => {
  requireDocker();
  const first = await runCli(["run", "--runner", "docker", "examples/deps.ts"], {
    env,
    timeoutMs: 240_000,
  });
  check(first.code === 0, "exit code 0", first);
  match(first.stdout, /^hello from the image: nano-modal \(jq-1\.\d+\)$/m);
  const started = performance.now();
  const second = await runCli(["run", "--runner", "docker", "examples/deps.ts"], { env });
  check(second.code === 0 && !/Building/.test(second.stderr), "second run builds nothing", second);
  ok(performance.now() - started < 15_000);
  match(second.stdout, /^hello from the image: nano-modal/m);
});

Deno.test("a function past its memoryMiB fails with OutOfMemoryError naming the limit, and the worker goes on", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("memory");
export const hog = app.function({ memoryMiB: 64 }, function hog(kind: string) {
  if (kind === "small") return "fine";
  const keep: unknown[] = [];
  while (true) keep.push(kind === "heap" ? new Array(1_000_000).fill(1.5) : new Uint8Array(8 << 20).fill(1));
});
app.localEntrypoint(async () => {
  for (const kind of ["buffers", "heap"]) {
    try { await hog.remote(kind); } catch (e) { console.log(kind, (e as Error).name, (e as Error).message); }
  }
  console.log("next", await hog.remote("small"));
});
`);
  check(r.code === 0, "exit code 0", r);
  match(
    r.stdout,
    /^buffers OutOfMemoryError hog ran out of memory \(limit 64 MiB\): raise memoryMiB/m,
  );
  match(r.stdout, /^heap OutOfMemoryError hog ran out of memory \(limit 64 MiB\)/m);
  match(r.stdout, /^next fine$/m);
});

Deno.test("a function past its timeoutMs fails with FunctionTimeoutError and the next call runs", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("timeouts");
export const slow = app.function({ timeoutMs: 1_000 }, async function slow(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
app.localEntrypoint(async () => {
  try { await slow.remote(30_000); } catch (e) { console.log((e as Error).name, (e as Error).message); }
  console.log("next", await slow.remote(5));
});
`);
  check(r.code === 0, "exit code 0", r);
  match(r.stdout, /^FunctionTimeoutError slow timed out after 1000 ms/m);
  match(r.stdout, /^next 5$/m);
});

Deno.test("a container killed mid-input has its input run again and the result arrives", async () => {
  requireDocker();
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-docker-test-" });
  const name = `victim${crypto.randomUUID().slice(0, 6)}`;
  const file = await writeApp(
    `import { App } from ${SDK};
const app = new App("kills");
export const ${name} = app.function(async function ${name}(x: number) {
  console.log("started");
  await new Promise((r) => setTimeout(r, 2_000));
  return x * 2;
});
app.localEntrypoint(async () => console.log("result", await ${name}.remote(21)));
`,
    dir,
  );
  const proc = new CliProcess(["run", "--runner", "docker", file], { env, cwd: dir });
  try {
    await proc.waitFor(/started/, 60_000);
    const docker = await connectDocker(dockerSocketPath());
    // By name: the container may be a spare that became this function's sandbox (see
    // runner/docker/_spare.ts), named as its own but still labelled as a spare.
    const victims = await docker.listContainers({ filters: { name: [`-${name}-`] } });
    strictEqual(victims.length, 1);
    await docker.getContainer(victims[0].Id).kill();
    const code = await proc.exited();
    check(code === 0, "exit code 0", proc);
    match(proc.stdout, /^result 42$/m);
    ok((proc.stdout.match(/started/g) ?? []).length >= 2, "the input ran again");
  } finally {
    await proc.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed image build reports the failing step; a bad local path is one clear line", async () => {
  const build = await runApp(`import { App, Image } from ${SDK};
const app = new App("badbuild");
const image = Image.deno().env({ A: "1" }).npmInstall("nano-modal-no-such-package-4f1c");
export const f = app.function({ image }, function f() { return 1; });
app.localEntrypoint(async () => {
  try { await f.remote(); } catch (e) { console.log((e as Error).name, (e as Error).message); }
});
`);
  check(build.code === 0, "exit code 0", build);
  match(
    build.stdout,
    // The SDK's own ImageBuildError (issue 12, edge 7), no longer a RemoteError wrapping it.
    /^ImageBuildError Building image nano-modal\/img:\w+ failed at step 4\/4 \(npmInstall nano-modal-no-such-package-4f1c\)/m,
  );
  match(build.stderr, /\[4\/4\] npmInstall nano-modal-no-such-package-4f1c/);

  const path = await runApp(`import { App, Image } from ${SDK};
const app = new App("badpath");
export const f = app.function({ image: Image.deno().addLocalFile("missing.txt", "/m.txt") }, function f() { return 1; });
app.localEntrypoint(async () => { await f.remote(); });
`);
  check(path.code !== 0, "exit code not 0", path);
  match(
    path.stderr,
    /addLocalFile: cannot read missing\.txt \(.*missing\.txt\): it does not exist/,
  );
  ok(!/\n\s+at /.test(path.stderr), "no stack trace");
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(cache, { recursive: true });
});

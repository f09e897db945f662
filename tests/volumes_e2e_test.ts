// Volumes end to end, through `serve` and separate `worker` processes: 12 containers
// committing in parallel, concurrent commits to one file, the client API, the CLI,
// commit on container stop, and on Redis: a restart of the control plane and two workers
// sharing one volume. The deno runner refuses mounts with one clear line.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, writeApp } from "./_cli.ts";
import { type Stack, startStack } from "./_state_stack.ts";
import { startRedis } from "./mod.ts";

const APP = `${ROOT}tests/fixtures/volume_app.ts`;

function run(stack: Stack, args: string[], vol: string) {
  return runCli(["run", "--server", stack.url, APP, "--", ...args], {
    env: { ...stack.env, VOL: vol },
    timeoutMs: 240_000,
  });
}

Deno.test("12 containers commit in parallel and all see every file; one file written by 8 stays whole (docker)", async () => {
  const stack = await startStack(["docker"]);
  try {
    let r = await run(stack, ["writers"], "par");
    check(r.code === 0, "writers run", r);
    const containers = Number(r.stdout.match(/containers (\d+)/)?.[1]);
    ok(containers === 12, `12 writers in 12 containers at once (${containers})`);
    match(r.stdout, /seen 12/);
    match(r.stdout, /outside 12/);
    r = await run(stack, ["same"], "par");
    check(r.code === 0, "same runs", r);
    match(r.stdout, /same 6291456 1\n/, "one whole version, never a mix");
  } finally {
    await stack.stop();
  }
});

Deno.test("the client reads, writes, lists and removes; deletions inside functions propagate; a stopped container commits", async () => {
  const stack = await startStack(["docker"]);
  try {
    let r = await run(stack, ["client"], "cli");
    check(r.code === 0, "client runs", r);
    match(r.stdout, /read alpha/);
    match(r.stdout, /dir a.txt,b\//);
    match(r.stdout, /after b\n/);
    match(r.stdout, /gone NotFoundError/);
    r = await run(stack, ["stop"], "cli");
    check(r.code === 0, "stop runs", r);
    r = await stack.cli(["volume", "get", "cli", "on-stop.txt", "-"]);
    check(r.code === 0 && r.stdout === "committed when the container stopped", "commit on stop", r);
  } finally {
    await stack.stop();
  }
});

Deno.test("volume CLI: create, put a directory and a file, ls, get back byte for byte, rm, delete", async () => {
  const stack = await startStack([]);
  const dir = await Deno.makeTempDir({ prefix: "nm-vol-cli-" });
  try {
    await Deno.mkdir(`${dir}/tree/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/tree/a.txt`, "a");
    await Deno.writeTextFile(`${dir}/tree/sub/b.txt`, "b");
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const blob = new Uint8Array(9 * 1024 * 1024);
    for (let at = 0; at < blob.length; at += big.length) blob.set(big, at);
    await Deno.writeFile(`${dir}/blob.bin`, blob);
    let r = await stack.cli(["volume", "create", "v1"]);
    check(r.code === 0, "create", r);
    r = await stack.cli(["volume", "put", "v1", `${dir}/tree`]);
    check(r.code === 0, "put dir", r);
    r = await stack.cli(["volume", "put", "v1", `${dir}/blob.bin`, "/bin/"]);
    check(r.code === 0, "put file", r);
    r = await stack.cli(["volume", "ls", "v1"]);
    check(/bin\/\n/.test(r.stdout) && /tree\//.test(r.stdout), "ls root", r);
    r = await stack.cli(["volume", "ls", "v1", "tree"]);
    check(/a\.txt/.test(r.stdout) && /sub\//.test(r.stdout), "ls dir", r);
    r = await stack.cli(["volume", "get", "v1", "bin/blob.bin", `${dir}/back.bin`]);
    check(r.code === 0, "get", r);
    ok(
      (await Deno.readFile(`${dir}/back.bin`)).every((b, i) => b === blob[i]),
      "byte for byte",
    );
    r = await stack.cli(["volume", "get", "v1", "tree", `${dir}/tree-back`]);
    check(r.code === 0, "get dir", r);
    strictEqual(await Deno.readTextFile(`${dir}/tree-back/sub/b.txt`), "b");
    r = await stack.cli(["volume", "rm", "v1", "tree"]);
    check(r.code !== 0 && /pass -r/.test(r.stderr), "rm of a directory needs -r", r);
    r = await stack.cli(["volume", "rm", "v1", "tree", "-r"]);
    check(r.code === 0, "rm -r", r);
    r = await stack.cli(["volume", "ls", "v1"]);
    check(!r.stdout.includes("tree"), "removed", r);
    r = await stack.cli(["volume", "ls"]);
    check(/v1\s.*\s1\s+9\.0 MiB/.test(r.stdout), "listed with its size", r);
    r = await stack.cli(["volume", "delete", "v1"]);
    check(r.code === 0, "delete", r);
    r = await stack.cli(["volume", "ls", "v1"]);
    check(r.code !== 0 && /Volume "v1" not found/.test(r.stderr), "gone", r);
  } finally {
    await stack.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on Redis, a restarted control plane keeps secrets and volumes, and two workers see each other's commits", async () => {
  const redis = await startRedis();
  const dataDir = await Deno.makeTempDir({ prefix: "nm-state-redis-" });
  const env = { NANO_MODAL_DATA_DIR: dataDir };
  try {
    const first = await startStack(["docker"], ["--redis", redis.url], env);
    try {
      let r = await first.cli(["secret", "create", "kept", "K=survives"]);
      check(r.code === 0, "secret", r);
      r = await run(first, ["writers"], "red");
      check(r.code === 0 && /seen 12/.test(r.stdout), "writers on the first stack", r);
    } finally {
      await first.stop();
    }
    // Eight inputs per worker: the 12 writers, held by their barrier, need both workers.
    const second = await startStack(["docker", "docker"], ["--redis", redis.url], env, 8);
    try {
      let r = await second.cli(["secret", "list"]);
      check(/kept\s.*K/.test(r.stdout), "secret kept", r);
      r = await run(second, ["look"], "red");
      check(r.code === 0 && /seen 12/.test(r.stdout), "volume kept", r);
      r = await run(second, ["writers"], "red2");
      check(
        r.code === 0 && /seen 12/.test(r.stdout) && /outside 12/.test(r.stdout),
        "two workers",
        r,
      );
    } finally {
      await second.stop();
    }
  } finally {
    await redis.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("on the deno runner (bubblewrap) 12 sandboxes commit in parallel and the client sees it all", async () => {
  const stack = await startStack(["deno"]);
  try {
    let r = await run(stack, ["writers"], "denopar");
    check(r.code === 0, "writers run on deno", r);
    match(r.stdout, /containers 12/);
    match(r.stdout, /seen 12/);
    match(r.stdout, /outside 12/);
    r = await run(stack, ["client"], "denocli");
    check(r.code === 0 && /after b\n/.test(r.stdout), "client and in-function removal on deno", r);
  } finally {
    await stack.stop();
  }
});

Deno.test("a function mounting a volume that does not exist fails the run before any call, naming it", async () => {
  const stack = await startStack([]);
  try {
    const file = await writeApp(`
import { App, Volume } from ${JSON.stringify(`${ROOT}sdk/mod.ts`)};
const app = new App("novol");
const f = app.function({ volumes: { "/data": Volume.fromName("never-made") } }, function f() {
  console.log("RAN");
});
app.localEntrypoint(async () => { await f.remote(); });
`);
    const r = await runCli(["run", "--server", stack.url, file], { env: stack.env });
    check(r.code !== 0, "fails", r);
    match(
      r.stderr,
      /Volume "never-made" not found: create it with `nano-modal volume create never-made`/,
    );
    ok(!r.stdout.includes("RAN"));
  } finally {
    await stack.stop();
  }
});

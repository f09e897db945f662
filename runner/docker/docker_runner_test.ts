// The docker runner against the real daemon: image builds and their cache, container
// hardening as docker inspect reports it, out-of-memory exits, and stale-container cleanup.
// Without a reachable daemon these tests fail: they never skip.
import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { create } from "../../proto/mod.ts";
import { FunctionDefSchema } from "../../proto/messages.ts";
import { decodeValue, encodeValue } from "../../proto/payload.ts";
import { connectDocker, dockerReachable, dockerSocketPath } from "./_docker.ts";
import { entrypointFile } from "../_entrypoint_file.ts";
import { WarmSandbox } from "../_warm_sandbox.ts";
import { DockerRunner, WORKER_LABEL } from "./docker_runner.ts";
import { ImageBuildError, SandboxDiedError } from "../errors.ts";

const reachable = await dockerReachable(dockerSocketPath(), 3_000);
const options = { sanitizeOps: false, sanitizeResources: false };

function requireDocker(): void {
  ok(
    reachable,
    `No Docker daemon answers at ${dockerSocketPath()}: start dockerd to run these tests`,
  );
}

// A bundle written by hand: it registers its app the way the SDK does inside a sandbox.
const BUNDLE = `
const rt = globalThis[Symbol.for("nano-modal.runtime")];
rt.apps.push({ name: "unit", functions: new Map([
  ["echo", (x) => x],
  ["hog", () => { const keep = []; while (true) keep.push(new Uint8Array(8 << 20).fill(1)); }],
]) });
`;

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-docker-unit-" });
  const bundlePath = `${dir}/bundle.js`;
  await Deno.writeTextFile(bundlePath, BUNDLE);
  const entrypointPath = await entrypointFile(dir);
  await Deno.mkdir(`${dir}/sandboxes`);
  return { dir, bundlePath, entrypointPath };
}

function def(overrides: Record<string, unknown> = {}) {
  return create(FunctionDefSchema, {
    name: "echo",
    imageJson: JSON.stringify({ layers: [{ kind: "base", base: "deno" }] }),
    timeoutMs: 60_000,
    memoryMib: 128,
    cpu: 0.5,
    concurrency: 1,
    maxContainers: 1,
    ...overrides,
  });
}

/** An image definition no other test shares, so it is built fresh. */
function uniqueImage(): string {
  return JSON.stringify({
    layers: [{ kind: "base", base: "deno" }, { kind: "env", vars: { NONCE: crypto.randomUUID() } }],
  });
}

Deno.test({
  name: "prepare() builds an image once per host; later prepares, in any runner, reuse it",
  ...options,
  async fn() {
    requireDocker();
    const { dir } = await fixture();
    const image = uniqueImage();
    const lines: string[] = [];
    const runner = new DockerRunner({ cacheDir: dir });
    await runner.prepare(def({ imageJson: image }), (l) => lines.push(l));
    ok(lines.some((l) => /^Building image nano-modal\/img:/.test(l)), lines.join("\n"));
    const tag = lines.find((l) => l.startsWith("Built nano-modal/img:"))!.split(" ")[1];

    const again: string[] = [];
    const started = performance.now();
    await runner.prepare(def({ imageJson: image }), (l) => again.push(l));
    await new DockerRunner({ cacheDir: dir }).prepare(
      def({ imageJson: image }),
      (l) => again.push(l),
    );
    deepStrictEqual(again, []);
    ok(performance.now() - started < 1_000, "a cached image is reused at once");
    const docker = await connectDocker(dockerSocketPath());
    await docker.getImage(tag).remove({ force: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "concurrent prepare() calls of one image wait for a single build",
  ...options,
  async fn() {
    requireDocker();
    const { dir } = await fixture();
    const image = uniqueImage();
    const lines: string[] = [];
    const runner = new DockerRunner({ cacheDir: dir });
    const other = new DockerRunner({ cacheDir: dir });
    await Promise.all([
      runner.prepare(def({ imageJson: image }), (l) => lines.push(l)),
      runner.prepare(def({ imageJson: image }), (l) => lines.push(l)),
      other.prepare(def({ imageJson: image }), (l) => lines.push(l)),
    ]);
    strictEqual(lines.filter((l) => l.startsWith("Building image")).length, 1, lines.join("\n"));
    const tag = lines.find((l) => l.startsWith("Built nano-modal/img:"))!.split(" ")[1];
    await (await connectDocker(dockerSocketPath())).getImage(tag).remove({ force: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "a failed build rejects with ImageBuildError naming the failing step and its output",
  ...options,
  async fn() {
    requireDocker();
    const { dir } = await fixture();
    const image = JSON.stringify({
      layers: [{ kind: "base", base: "deno" }, {
        kind: "npm",
        packages: ["nano-modal-no-such-package-4f1c"],
      }],
    });
    const lines: string[] = [];
    await rejects(
      new DockerRunner({ cacheDir: dir }).prepare(def({ imageJson: image }), (l) => lines.push(l)),
      (err) => {
        ok(err instanceof ImageBuildError, String(err));
        match(err.message, /failed at step 3\/3 \(npmInstall nano-modal-no-such-package-4f1c\)/);
        match(err.message, /non-zero code/);
        return true;
      },
    );
    ok(lines.some((l) => l.includes("[3/3] npmInstall")), lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "containers are hardened: docker inspect shows every limit, and inputs run in them",
  ...options,
  async fn() {
    requireDocker();
    const fx = await fixture();
    const runner = new DockerRunner({ cacheDir: fx.dir });
    const docker = await connectDocker(dockerSocketPath());
    for (const blockNetwork of [true, false]) {
      const d = def({ blockNetwork, memoryMib: 96, cpu: 0.5 });
      await runner.prepare(d, () => {});
      const appId = `ap-unit-${crypto.randomUUID().slice(0, 8)}`;
      const warm = await WarmSandbox.start(runner, {
        sandboxId: `nm-unit-${crypto.randomUUID().slice(0, 8)}`,
        appId,
        appName: "unit",
        functionName: "echo",
        def: d,
        bundlePath: fx.bundlePath,
        entrypointPath: fx.entrypointPath,
        onOutput: () => {},
      }, { rootDir: `${fx.dir}/sandboxes` });
      try {
        const done = await warm.run("in-1", "echo", encodeValue([{ hello: [1, 2] }]));
        ok(done.ok);
        deepStrictEqual(decodeValue(done.payload!), { hello: [1, 2] });

        const [info] = await docker.listContainers({
          filters: { label: [`nano-modal.app=${appId}`] },
        });
        const c = await docker.getContainer(info.Id).inspect();
        const h = c.HostConfig;
        deepStrictEqual(h.CapDrop, ["ALL"]);
        deepStrictEqual(h.SecurityOpt, ["no-new-privileges"]);
        strictEqual(h.ReadonlyRootfs, true);
        strictEqual(c.Config.User, "65534:65534");
        ok((h.PidsLimit ?? 0) > 0 && (h.PidsLimit ?? 0) <= 1024);
        strictEqual(h.Memory, 96 * 1024 * 1024);
        strictEqual(h.NanoCpus, 500_000_000);
        // Not the default bridge: nano-modal's own network, containers cut off from each other.
        strictEqual(h.NetworkMode, blockNetwork ? "none" : "nano-modal");
        deepStrictEqual(
          h.ExtraHosts ?? [],
          blockNetwork ? [] : ["host.docker.internal:host-gateway"],
        );
        strictEqual(h.AutoRemove, true, "nothing is left if the worker is gone");
        strictEqual(h.Init, true);
        strictEqual(
          c.Config.OpenStdin && c.Config.StdinOnce,
          true,
          "stdin is the worker's lifeline",
        );
        strictEqual(h.Privileged, false);
        ok(c.Config.Labels[WORKER_LABEL].startsWith(`${Deno.hostname()}:${Deno.pid}:`));
        // Only the entrypoint, the bundle and the socket directory, all read-only.
        deepStrictEqual(
          c.Mounts.map((m) => [m.Source, m.RW]).sort(),
          [
            [fx.bundlePath, false],
            [fx.entrypointPath, false],
            [c.Mounts.find((m) => m.Destination === "/nano-modal/run")!.Source, false],
          ].sort(),
        );
        ok(!c.Config.Env.some((e) => /TOKEN|SECRET/.test(e)), c.Config.Env.join(" "));
      } finally {
        await warm.stop();
      }
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`nano-modal.app=${appId}`] },
      });
      strictEqual(left.length, 0, "stop() removes the container");
    }
    const [network] = await docker.listNetworks({ filters: { name: ["nano-modal"] } });
    strictEqual(network.Options?.["com.docker.network.bridge.enable_icc"], "false");
    await Deno.remove(fx.dir, { recursive: true });
  },
});

Deno.test({
  name:
    "a container killed for exceeding its memory reports oom, so the input fails with OutOfMemoryError",
  ...options,
  async fn() {
    requireDocker();
    const fx = await fixture();
    const runner = new DockerRunner({ cacheDir: fx.dir });
    const d = def({ name: "hog", memoryMib: 64 });
    await runner.prepare(d, () => {});
    const warm = await WarmSandbox.start(runner, {
      sandboxId: `nm-unit-${crypto.randomUUID().slice(0, 8)}`,
      appId: "ap-unit-oom",
      appName: "unit",
      functionName: "hog",
      def: d,
      bundlePath: fx.bundlePath,
      entrypointPath: fx.entrypointPath,
      onOutput: () => {},
    }, { rootDir: `${fx.dir}/sandboxes` });
    await rejects(warm.run("in-1", "hog", encodeValue([])), (err) => {
      ok(err instanceof SandboxDiedError, String(err));
      strictEqual(err.oom, true, err.message);
      return true;
    });
    await warm.stop();
    await Deno.remove(fx.dir, { recursive: true });
  },
});

Deno.test({
  name: "cleanup() removes containers of workers that are gone and keeps those of live ones",
  ...options,
  async fn() {
    requireDocker();
    const { dir } = await fixture();
    const runner = new DockerRunner({ cacheDir: dir });
    await runner.prepare(def(), () => {});
    const docker = await connectDocker(dockerSocketPath());
    const [image] = (await docker.listImages({ filters: { reference: ["nano-modal/deno"] } }))[0]
      .RepoTags!;
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const make = async (owner: string) => {
      const c = await docker.createContainer({
        Image: image,
        Cmd: ["deno", "--version"],
        Labels: { [WORKER_LABEL]: owner },
      });
      return c.id;
    };
    const stale = await make(`${Deno.hostname()}:${dead.pid}:`);
    const reused = await make(`${Deno.hostname()}:${Deno.pid}:1`);
    const live = await make(`${Deno.hostname()}:${Deno.pid}:`);
    const elsewhere = await make(`another-host:${dead.pid}:`);
    await runner.cleanup();
    const ids = new Set((await docker.listContainers({ all: true })).map((c) => c.Id));
    deepStrictEqual([ids.has(stale), ids.has(reused), ids.has(live), ids.has(elsewhere)], [
      false,
      false,
      true,
      true,
    ]);
    for (const id of [live, elsewhere]) await docker.getContainer(id).remove({ force: true });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "Image.fromRegistry() uses a local image of that name, adds Deno to it, and explains a failed pull",
  ...options,
  async fn() {
    requireDocker();
    const fx = await fixture();
    const runner = new DockerRunner({ cacheDir: fx.dir });
    await runner.prepare(def(), () => {});
    const docker = await connectDocker(dockerSocketPath());
    const [base] = (await docker.listImages({ filters: { reference: ["nano-modal/deno"] } }))[0]
      .RepoTags!;
    const ref = `nano-modal-test/local:${crypto.randomUUID().slice(0, 8)}`;
    await docker.getImage(base).tag({ repo: ref.split(":")[0], tag: ref.split(":")[1] });
    const lines: string[] = [];
    const d = def({ imageJson: JSON.stringify({ layers: [{ kind: "registry", ref }] }) });
    await runner.prepare(d, (l) => lines.push(l));
    ok(lines.some((l) => l.startsWith(`Adding Deno to ${ref}`)), lines.join("\n"));
    const warm = await WarmSandbox.start(runner, {
      sandboxId: `nm-unit-${crypto.randomUUID().slice(0, 8)}`,
      appId: "ap-unit-registry",
      appName: "unit",
      functionName: "echo",
      def: d,
      bundlePath: fx.bundlePath,
      entrypointPath: fx.entrypointPath,
      onOutput: () => {},
    }, { rootDir: `${fx.dir}/sandboxes` });
    strictEqual(decodeValue((await warm.run("in-1", "echo", encodeValue(["hi"]))).payload!), "hi");
    await warm.stop();

    const absent = def({
      imageJson: JSON.stringify({
        layers: [{ kind: "registry", ref: "nano-modal-test/absent:1" }],
      }),
    });
    await rejects(runner.prepare(absent, () => {}), (err) => {
      ok(err instanceof ImageBuildError);
      match(err.message, /^Cannot pull nano-modal-test\/absent:1 .*no registry is reachable/);
      return true;
    });
    const overlay = lines.find((l) => l.startsWith("Adding Deno"))!.match(/ as (\S+)…$/)![1];
    await docker.getImage(overlay).remove().catch(() => {});
    await docker.getImage(ref).remove().catch(() => {});
    await Deno.remove(fx.dir, { recursive: true });
  },
});

// The docker runner against the real daemon: container hardening as docker inspect reports
// it, out-of-memory exits, and stale-container cleanup (image builds: _image_builder_test.ts).
// Without a reachable daemon these tests fail: they never skip.
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { decodeValue, encodeValue } from "../../proto/payload.ts";
import { connectDocker, dockerSocketPath } from "./_docker.ts";
import { WarmSandbox } from "../_warm_sandbox.ts";
import { DockerRunner, WORKER_LABEL } from "./docker_runner.ts";
import { SandboxDiedError } from "../errors.ts";
import { def, fixture, options, requireDocker } from "./_test_fixture.ts";

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
      await runner.prepare(d, { log: () => {} });
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
        const done = await warm.run("in-1", encodeValue([{ hello: [1, 2] }]), { fn: "echo" });
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
    await runner.prepare(d, { log: () => {} });
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
    await rejects(warm.run("in-1", encodeValue([]), { fn: "hog" }), (err) => {
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
    await runner.prepare(def(), { log: () => {} });
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

// Image builds through the docker runner against the real daemon: built once per host,
// one build for concurrent prepares, failures naming their step, local registry images.
// Without a reachable daemon these tests fail: they never skip.
import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { decodeValue, encodeValue } from "../../proto/payload.ts";
import { connectDocker, dockerSocketPath } from "./_docker.ts";
import { WarmSandbox } from "../_warm_sandbox.ts";
import { DockerRunner } from "./docker_runner.ts";
import { ImageBuildError } from "../errors.ts";
import {
  def,
  fixture,
  image as imageOf,
  options,
  requireDocker,
  uniqueImage,
} from "./_test_fixture.ts";

Deno.test({
  name: "prepare() builds an image once per host; later prepares, in any runner, reuse it",
  ...options,
  async fn() {
    requireDocker();
    const { dir } = await fixture();
    const image = uniqueImage();
    const lines: string[] = [];
    const runner = new DockerRunner({ cacheDir: dir });
    await runner.prepare(def({ image }), { log: (l) => lines.push(l) });
    ok(lines.some((l) => /^Building image nano-modal\/img:/.test(l)), lines.join("\n"));
    const tag = lines.find((l) => l.startsWith("Built nano-modal/img:"))!.split(" ")[1];

    const again: string[] = [];
    const started = performance.now();
    await runner.prepare(def({ image }), { log: (l) => again.push(l) });
    await new DockerRunner({ cacheDir: dir }).prepare(
      def({ image }),
      { log: (l) => again.push(l) },
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
      runner.prepare(def({ image }), { log: (l) => lines.push(l) }),
      runner.prepare(def({ image }), { log: (l) => lines.push(l) }),
      other.prepare(def({ image }), { log: (l) => lines.push(l) }),
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
    const image = imageOf({ case: "base", value: "deno" }, {
      case: "npm",
      value: { packages: ["nano-modal-no-such-package-4f1c"] },
    });
    const lines: string[] = [];
    await rejects(
      new DockerRunner({ cacheDir: dir }).prepare(def({ image }), {
        log: (l) => lines.push(l),
      }),
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
  name:
    "Image.fromRegistry() uses a local image of that name, adds Deno to it, and explains a failed pull",
  ...options,
  async fn() {
    requireDocker();
    const fx = await fixture();
    const runner = new DockerRunner({ cacheDir: fx.dir });
    await runner.prepare(def(), { log: () => {} });
    const docker = await connectDocker(dockerSocketPath());
    const [base] = (await docker.listImages({ filters: { reference: ["nano-modal/deno"] } }))[0]
      .RepoTags!;
    const ref = `nano-modal-test/local:${crypto.randomUUID().slice(0, 8)}`;
    await docker.getImage(base).tag({ repo: ref.split(":")[0], tag: ref.split(":")[1] });
    const lines: string[] = [];
    const d = def({ image: imageOf({ case: "registry", value: ref }) });
    await runner.prepare(d, { log: (l) => lines.push(l) });
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
    strictEqual(
      decodeValue((await warm.run("in-1", encodeValue(["hi"]), { fn: "echo" })).payload!),
      "hi",
    );
    await warm.stop();

    const absent = def({ image: imageOf({ case: "registry", value: "nano-modal-test/absent:1" }) });
    await rejects(runner.prepare(absent, { log: () => {} }), (err) => {
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

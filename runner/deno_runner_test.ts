// The deno runner on this host: inside bubblewrap (the host has it) and without it, a sandbox
// reaches neither the host's loopback nor its files, sees extra mounts, and `memoryMiB` bounds
// ArrayBuffers through the memory cgroup.
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { create } from "../proto/deps.ts";
import { FunctionDefSchema } from "../proto/messages.ts";
import { decodeValue, encodeValue } from "../proto/payload.ts";
import { entrypointFile } from "./_entrypoint_file.ts";
import { WarmSandbox } from "./_warm_sandbox.ts";
import { DenoRunner } from "./deno_runner.ts";
import { SandboxDiedError } from "./errors.ts";

const options = { sanitizeOps: false, sanitizeResources: false };

// A bundle written by hand: it registers its app the way the SDK does inside a sandbox.
const BUNDLE = `
const rt = globalThis[Symbol.for("nano-modal.runtime")];
const attempt = async (f) => { try { return String(await f()); } catch (e) { return e.name; } };
rt.apps.push({ name: "unit", functions: new Map([
  ["probe", async (port, mounted) => ({
    loopback: await attempt(async () => (await Deno.connect({ hostname: "127.0.0.1", port })).close()),
    etc: await attempt(() => Deno.readTextFileSync("/etc/passwd")),
    mounted: await attempt(() => Deno.statSync(mounted).isDirectory),
    pid: Deno.pid,
  })],
  ["buffers", () => { const keep = []; for (let i = 0; i < 64; i++) keep.push(new Uint8Array(8 << 20).fill(1)); return keep.length; }],
]) });
`;

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-deno-unit-" });
  const bundlePath = `${dir}/bundle.js`;
  await Deno.writeTextFile(bundlePath, BUNDLE);
  const entrypointPath = await entrypointFile(dir);
  await Deno.mkdir(`${dir}/sandboxes`);
  await Deno.mkdir(`${dir}/volume`);
  return { dir, bundlePath, entrypointPath };
}

function def(overrides: Record<string, unknown> = {}) {
  return create(FunctionDefSchema, {
    name: "probe",
    timeoutMs: 60_000,
    memoryMib: 64,
    concurrency: 1,
    maxContainers: 1,
    ...overrides,
  });
}

for (const bubblewrap of [true, false]) {
  Deno.test({
    name: `${
      bubblewrap ? "inside bubblewrap" : "without bubblewrap"
    }, a sandbox reaches neither loopback nor host files, and memoryMiB bounds its ArrayBuffers`,
    ...options,
    async fn() {
      const fx = await fixture();
      const logged: string[] = [];
      const runner = new DenoRunner({
        denoDir: `${fx.dir}/deno`,
        bubblewrap,
        log: (l) => logged.push(l),
      });
      const isolation = await runner.isolation();
      strictEqual(isolation.bubblewrap, bubblewrap, "bwrap is installed on this host");
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      const start = (name: string) =>
        WarmSandbox.start(runner, {
          sandboxId: `nm-unit-${name}-${Deno.pid}-${crypto.randomUUID().slice(0, 4)}`,
          appId: "ap-unit",
          appName: "unit",
          functionName: name,
          def: def({ name }),
          bundlePath: fx.bundlePath,
          entrypointPath: fx.entrypointPath,
          mounts: [{ source: `${fx.dir}/volume`, target: "/data", readOnly: false }],
          onOutput: () => {},
        }, { rootDir: `${fx.dir}/sandboxes` });
      const warm = await start("probe");
      try {
        const done = await warm.run("in-1", encodeValue([port, "/data"]), { fn: "probe" });
        ok(done.ok, JSON.stringify(done.error));
        const probed = decodeValue(done.payload!) as Record<string, unknown>;
        strictEqual(probed.loopback, "NotCapable");
        strictEqual(probed.etc, "NotCapable");
        if (bubblewrap) {
          deepStrictEqual({ mounted: probed.mounted, pid: probed.pid }, {
            mounted: "true",
            pid: 2,
          });
        } else {
          strictEqual(logged.length, 1, "the runner says once that bubblewrap is missing");
          match(logged[0], /bubblewrap \(bwrap\) is not usable here/);
        }
      } finally {
        await warm.stop();
        listener.close();
      }
      if (isolation.cgroup) {
        const hog = await start("buffers");
        const died = await hog.run("in-2", encodeValue([]), { fn: "buffers" }).catch((e) => e);
        ok(
          died instanceof SandboxDiedError && died.oom,
          `512 MiB of buffers under 64 MiB: ${died}`,
        );
        await hog.stop();
      }
      await Deno.remove(fx.dir, { recursive: true });
    },
  });
}

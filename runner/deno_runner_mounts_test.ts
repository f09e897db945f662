import { rejects } from "node:assert/strict";
import { createRouterTransport } from "../proto/deps.ts";
import { DenoRunner } from "./deno_runner.ts";
import { withState } from "./_state_runner.ts";

Deno.test("without bubblewrap a deno worker refuses volume mounts in one line saying what to do", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runner = withState(
      new DenoRunner({ denoDir: `${dir}/deno`, bubblewrap: false, log: () => {} }),
      { transport: createRouterTransport(() => {}), cacheDir: dir },
    );
    await rejects(
      runner.start({
        sandboxId: "sb-test",
        appId: "ap-test",
        appName: "a",
        functionName: "f",
        def: {
          name: "f",
          memoryMib: 128,
          cpu: 1,
          blockNetwork: false,
          volumes: [{ path: "/data", volumeName: "v" }],
        },
        bundlePath: `${dir}/bundle.js`,
        entrypointPath: `${dir}/entrypoint.js`,
        socketDir: `${dir}/sb-test`,
        onOutput: () => {},
      }),
      /deno runner cannot mount volumes without bubblewrap \(f mounts \/data\): install bubblewrap/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { rejects } from "node:assert/strict";
import { DenoRunner } from "./deno_runner.ts";

Deno.test("without bubblewrap the deno runner refuses volume mounts in one line saying what to do", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runner = new DenoRunner({ denoDir: `${dir}/deno`, bubblewrap: false, log: () => {} });
    await rejects(
      runner.start({
        sandboxId: "sb-test",
        appId: "ap-test",
        appName: "a",
        functionName: "f",
        def: { name: "f", imageJson: "{}", memoryMib: 128, cpu: 1, blockNetwork: false },
        bundlePath: `${dir}/bundle.js`,
        entrypointPath: `${dir}/entrypoint.js`,
        socketDir: `${dir}/sb-test`,
        onOutput: () => {},
        mounts: [{ source: dir, target: "/data", readOnly: false }],
      }),
      /deno runner cannot mount volumes without bubblewrap \(f mounts \/data\): install bubblewrap/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

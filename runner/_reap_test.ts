import { strictEqual } from "node:assert/strict";
import { ownerOf, reapOrphans, reapSandboxDirs } from "./_reap.ts";

Deno.test("ownerOf() reads the worker pid from sandbox ids, directories and socket paths", () => {
  strictEqual(ownerOf("nm-abcd1234-square-4242-7"), 4242);
  strictEqual(ownerOf("/c/sandboxes/nm-abcd1234-square-4242-7"), 4242);
  strictEqual(ownerOf("/c/sandboxes/nm-abcd1234-square-4242-7/sock"), 4242);
  strictEqual(ownerOf("/c/bundles/x.js"), undefined);
});

Deno.test("reapSandboxDirs() removes directories of dead workers and keeps live ones", async () => {
  const root = await Deno.makeTempDir();
  // A pid above the kernel's maximum never runs.
  const dead = `${root}/nm-app-fn-99999999-1`;
  const mine = `${root}/nm-app-fn-${Deno.pid}-1`;
  await Deno.mkdir(`${dead}/tmp`, { recursive: true });
  await Deno.mkdir(mine);
  strictEqual(await reapSandboxDirs(root), 1);
  strictEqual(await Deno.stat(dead).catch(() => null), null);
  strictEqual((await Deno.stat(mine)).isDirectory, true);
  await Deno.remove(root, { recursive: true });
});

Deno.test("reapOrphans() kills sandbox processes whose worker is gone, and only those", async () => {
  const dir = await Deno.makeTempDir();
  // Stand-ins: same command line shape as a sandbox, owned by a dead worker and by us.
  const start = (owner: number) =>
    new Deno.Command("sh", {
      args: ["-c", "sleep 3; :", `${dir}/sandboxes/nm-app-fn-${owner}-1/sock`],
      stdout: "null",
      stderr: "null",
    }).spawn();
  const orphan = start(99999999);
  const ours = start(Deno.pid);
  try {
    strictEqual(await reapOrphans(`${dir}/sandboxes`), 1);
    strictEqual((await orphan.status).signal, "SIGKILL");
    let oursDone = false;
    ours.status.then(() => oursDone = true);
    await new Promise((r) => setTimeout(r, 100));
    strictEqual(oursDone, false, "a live worker's sandbox is left alone");
  } finally {
    ours.kill("SIGKILL");
    await ours.status;
    await Deno.remove(dir, { recursive: true });
  }
});

import { strictEqual } from "node:assert/strict";
import { ownerOf, reapSandboxDirs } from "./_reap.ts";

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

import { deepStrictEqual } from "node:assert/strict";
import { SOURCES } from "./_entrypoint_file.ts";

Deno.test("the entrypoint's cache key covers every file of its import graph", async () => {
  const root = new URL("../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--no-config", new URL("runner/entrypoint.ts", root).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const local = info.modules.map((m) => m.specifier)
    .filter((s) => s.startsWith(root.href))
    .map((s) => s.slice(root.href.length))
    .sort();
  deepStrictEqual(local, [...SOURCES].sort());
});

// Memory stays bounded over many maps on one server: its live heap (garbage collected) does
// not grow with the inputs it has served. A promise raced against every read of the Work
// stream once kept every message an embedded worker sent (~470 bytes per input).
import { ok } from "node:assert/strict";

Deno.test("a server's live heap does not grow with the maps it has served", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL("./_stream_retention_check.ts", import.meta.url).pathname,
      "4",
      "5000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  ok(out.success, stderr);
  const { heap } = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  // Two more maps of 5,000 inputs: ~6 MB with the leak, well under 1.5 MB without.
  const grown = heap[3] - heap[1];
  ok(grown < 1.5 * 1024 * 1024, `live heap after each map: ${heap.join(", ")} bytes`);
});

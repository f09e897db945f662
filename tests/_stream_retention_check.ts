// Run by stream_retention_test.ts with --expose-gc: a control plane with an embedded worker
// (the in-process transport) serves maps; prints its live heap after each, garbage collected.
import { startEmbedded } from "../cli/mod.ts";
import { createMemoryStore } from "../control/mod.ts";
import { DenoRunner } from "../runner/mod.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const [maps, inputs] = Deno.args.map(Number);
const embedded = await startEmbedded({
  store: createMemoryStore(),
  runner: new DenoRunner({ denoDir: `${Deno.env.get("HOME")}/.cache/nano-modal/deno` }),
  workers: 1,
});
const heap: number[] = [];
try {
  for (let i = 0; i < maps; i++) {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "run",
        "--server",
        embedded.url,
        new URL("../bench/_defaults_app.ts", import.meta.url).pathname,
        "--",
        "map",
        String(inputs),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!run.success) throw new Error(new TextDecoder().decode(run.stderr));
    for (let k = 0; k < 3; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    heap.push(Deno.memoryUsage().heapUsed);
  }
} finally {
  await embedded.close();
}
console.log(JSON.stringify({ heap }));

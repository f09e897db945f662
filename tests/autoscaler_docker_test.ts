// The docker driver end to end: worker containers from the project's own image on this
// engine, each with the engine's socket, starting function containers through it.
import { ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe } from "./_cli.ts";
import {
  buildImages,
  containersWithLabel,
  expectSlowMap,
  status,
  until,
} from "./_autoscale_helpers.ts";

Deno.test("the docker driver scales worker containers with the backlog and leaves nothing behind", async () => {
  await buildImages();
  const tmp = await Deno.makeTempDir({ prefix: "nmad-" });
  const server = await startServe();
  const owner = `nano-modal.autoscaler=${server.url}`;
  const scaler = new CliProcess([
    "autoscaler",
    "--server",
    server.url,
    "--driver",
    "docker",
    "--min",
    "1",
    "--max",
    "3",
    "--interval-ms",
    "300",
    "--idle-ms",
    "3000",
    "--worker-concurrency",
    "4",
    "--worker-runner",
    "docker",
    "--worker-dir",
    `${tmp}/w`,
    "--grace-seconds",
    "30",
    "--stop-workers-on-exit",
  ]);
  const detail = () => `autoscaler:\n${scaler.stderr}`;
  const workerNames = new Set<string>();
  try {
    await until(
      "the first worker container registers",
      async () => {
        const s = await status(server.url);
        s.workers.forEach((w) => workerNames.add(w.host));
        return s.workers.length === 1;
      },
      90_000,
      detail,
    );
    ok([...workerNames][0].startsWith("nmw-"), "the worker runs in a container");
    const run = runCli(
      ["run", "--server", server.url, "tests/fixtures/slow_map.ts", "--", "32", "2000"],
      { timeoutMs: 180_000 },
    );
    let mostBusy = 0;
    let done = false;
    const watch = (async () => {
      while (!done) {
        const s = await status(server.url).catch(() => undefined);
        s?.workers.forEach((w) => workerNames.add(w.host));
        if (s) mostBusy = Math.max(mostBusy, s.workers.filter((w) => w.busy > 0).length);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const r = await run;
    done = true;
    await watch;
    check(r.code === 0, "the map finishes", r);
    expectSlowMap(r.stdout, 32);
    ok(mostBusy >= 2, `extra worker containers took inputs (saw ${mostBusy})\n${detail()}`);
    ok(/scale up 1 → [23] workers/.test(scaler.stderr), detail());
    await until(
      "idle worker containers drain back to 1",
      async () => {
        return (await status(server.url)).workers.length === 1 &&
          (await containersWithLabel(owner)).length === 1;
      },
      90_000,
      detail,
    );
  } finally {
    const code = await scaler.stop("SIGTERM");
    await server.proc.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    strictEqual(code, 0);
  }
  strictEqual((await containersWithLabel(owner)).length, 0, "no worker container left");
  const functions = (await containersWithLabel("nano-modal.worker")).filter((line) =>
    [...workerNames].some((name) => line.includes(`nano-modal.worker=${name}:`))
  );
  strictEqual(functions.length, 0, `no function container left:\n${functions.join("\n")}`);
});

// The docker driver end to end: worker containers from the project's own image on this
// engine, each with the engine's socket, starting function containers through it.
import { ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe } from "./_cli.ts";
import {
  autoscalerArgs,
  buildImages,
  containersWithLabel,
  expectSlowMap,
  status,
  until,
  watchWorkers,
} from "./_autoscale_helpers.ts";

Deno.test("the docker driver scales worker containers with the backlog and leaves nothing behind", async () => {
  await buildImages();
  const tmp = await Deno.makeTempDir({ prefix: "nmad-" });
  const server = await startServe();
  const owner = `nano-modal.autoscaler=${server.url}`;
  const scaler = new CliProcess(autoscalerArgs(server.url, {
    min: 1,
    max: 3,
    idleMs: 3000,
    runner: "docker",
    extra: ["--driver", "docker", "--worker-dir", `${tmp}/w`, "--grace-seconds", "30"]
      .concat("--stop-workers-on-exit"),
  }));
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
    const watch = watchWorkers(
      server.url,
      (s) => s.workers.forEach((w) => workerNames.add(w.host)),
    );
    const r = await run;
    const mostBusy = (await watch.stop()).busy;
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

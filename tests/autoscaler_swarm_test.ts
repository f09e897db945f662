// The swarm driver end to end: a single-node swarm made for this test, the workers a
// service whose replica count the autoscaler sets.
import { ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe } from "./_cli.ts";
import {
  autoscalerArgs,
  buildImages,
  expectSlowMap,
  status,
  until,
  watchWorkers,
  withEngineNetworkLock,
} from "./_autoscale_helpers.ts";

async function docker(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("the swarm driver scales a service's replicas with the backlog, then to zero", async () => {
  await withEngineNetworkLock(async () => {
    await buildImages();
    const state = (await docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])).out.trim();
    // Someone else's swarm is left alone; ours is made here and left after.
    const ownSwarm = state !== "active";
    if (ownSwarm) {
      const init = await docker(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
      strictEqual(init.code, 0, init.out);
    }
    const tmp = await Deno.makeTempDir({ prefix: "nmas-" });
    const service = `nmtest-${crypto.randomUUID().slice(0, 8)}`;
    const server = await startServe();
    const scaler = new CliProcess(autoscalerArgs(server.url, {
      min: 1,
      max: 2,
      extra: ["--driver", "swarm", "--service", service, "--worker-dir", tmp]
        .concat("--grace-seconds", "30", "--stop-workers-on-exit"),
    }));
    const detail = () => `autoscaler:\n${scaler.stderr}`;
    try {
      await until(
        "the service's first task registers",
        async () => {
          const s = await status(server.url);
          return s.workers.length === 1 && s.workers[0].host.startsWith("nmw-");
        },
        90_000,
        detail,
      );
      const run = runCli(
        ["run", "--server", server.url, "tests/fixtures/slow_map.ts", "--", "32", "2000"],
        { timeoutMs: 180_000 },
      );
      const watch = watchWorkers(server.url);
      const r = await run;
      const mostBusy = (await watch.stop()).busy;
      check(r.code === 0, "the map finishes", r);
      expectSlowMap(r.stdout, 32);
      ok(mostBusy === 2, `both replicas took inputs (saw ${mostBusy})\n${detail()}`);
      const replicas = await docker([
        "service",
        "inspect",
        service,
        "--format",
        "{{.Spec.Mode.Replicated.Replicas}}",
      ]);
      strictEqual(replicas.out.trim(), "2", "the service was scaled to --max");
    } finally {
      strictEqual(await scaler.stop("SIGTERM"), 0);
      await server.proc.stop();
      const replicas = await docker([
        "service",
        "inspect",
        service,
        "--format",
        "{{.Spec.Mode.Replicated.Replicas}}",
      ]);
      await docker(["service", "rm", service]);
      if (ownSwarm) await docker(["swarm", "leave", "--force"]);
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      strictEqual(replicas.out.trim(), "0", `drained to zero on exit\n${detail()}`);
    }
  });
});

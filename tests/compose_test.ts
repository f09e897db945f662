// The container stack: `deno task image`, `docker-compose up -d`, the hello example from
// the host against it, then `docker-compose down -v` leaves no container behind.
import { ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli } from "./_cli.ts";
import {
  buildImages,
  containersWithLabel,
  expectSlowMap,
  status,
  until,
  withEngineNetworkLock,
} from "./_autoscale_helpers.ts";

async function compose(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command("docker-compose", {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test({
  name:
    "docker-compose up runs the stack: hello prints 25 from the host, a backlog scales it, down -v leaves nothing",
  ignore: new Deno.Command("sh", { args: ["-c", "command -v docker-compose"], stdout: "null" })
    .outputSync().code !== 0,
  async fn() {
    await withEngineNetworkLock(async () => {
      await buildImages();
      const tmp = await Deno.makeTempDir({ prefix: "nmc-" });
      const project = `nmtest${crypto.randomUUID().slice(0, 6)}`;
      const port = freePort();
      const token = crypto.randomUUID().replaceAll("-", "");
      const url = `http://127.0.0.1:${port}`;
      const env = {
        NANO_MODAL_TOKEN: token,
        NANO_MODAL_PORT: String(port),
        NANO_MODAL_HOST_DIR: tmp,
        COMPOSE_PROJECT_NAME: project,
        NANO_MODAL_NETWORK: `${project}-net`,
      };
      const hosts = new Set<string>();
      const up = await compose(["up", "-d"], env);
      try {
        check(up.code === 0, "docker-compose up -d", up);
        await until(
          "the control plane answers and its worker registers",
          async () => {
            const s = await status(url, token);
            s.workers.forEach((w) => hosts.add(w.host));
            return s.workers.length >= 1;
          },
          120_000,
          () => "",
        );
        const r = await runCli(["run", "--server", url, "examples/hello.ts"], {
          env: { NANO_MODAL_TOKEN: token },
          timeoutMs: 120_000,
        });
        check(r.code === 0 && r.stdout.trim() === "25", "hello prints 25", r);
        const s = await status(url, token);
        s.workers.forEach((w) => hosts.add(w.host));
        ok(s.apps.some((a) => a.name === "hello"), "the app is listed");
        // A backlog of three rounds of the fixed worker's 32 slots: the autoscaler (itself a container)
        // starts a worker container on the stack's network, which runs inputs in function
        // containers through the host's engine.
        const map = runCli(
          ["run", "--server", url, "tests/fixtures/slow_map.ts", "--", "96", "4000"],
          { env: { NANO_MODAL_TOKEN: token }, timeoutMs: 180_000 },
        );
        let scaledBusy = false;
        let done = false;
        const watch = (async () => {
          while (!done) {
            const s = await status(url, token).catch(() => undefined);
            s?.workers.forEach((w) => hosts.add(w.host));
            if (s?.workers.some((w) => w.host.startsWith("nmw-") && w.busy > 0)) scaledBusy = true;
            await new Promise((r) => setTimeout(r, 250));
          }
        })();
        const m = await map;
        done = true;
        await watch;
        check(m.code === 0, "the map finishes", m);
        expectSlowMap(m.stdout, 96);
        const logs = await compose(["logs", "autoscaler"], env);
        ok(scaledBusy, `an autoscaled worker container took inputs\n${logs.stdout}`);
        ok(/scale up 0 → \d workers/.test(logs.stdout), logs.stdout);
      } finally {
        const down = await compose(["down", "-v"], env);
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
        check(down.code === 0, "docker-compose down -v", down);
      }
      strictEqual((await containersWithLabel(`com.docker.compose.project=${project}`)).length, 0);
      strictEqual(
        (await containersWithLabel("nano-modal.autoscaler=http://server:50051")).length,
        0,
      );
      const functions = (await containersWithLabel("nano-modal.worker")).filter((line) =>
        [...hosts].some((h) => line.includes(`nano-modal.worker=${h}:`))
      );
      strictEqual(functions.length, 0, `no function container left:\n${functions.join("\n")}`);
      const volumes = new TextDecoder().decode(
        (await new Deno.Command("docker", { args: ["volume", "ls", "-q"], stdout: "piped" })
          .output()).stdout,
      );
      ok(!volumes.includes(`${project}_redis-data`), "the Redis volume is gone");
    });
  },
});

// End-to-end: minContainers are warm as soon as an app is deployed, before any call.
import { strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, startServe, writeApp } from "./_cli.ts";
import { until } from "./_autoscale_helpers.ts";

interface StatusJson {
  workers: unknown[];
  functions: { function: string; containers: number; running: number }[];
}

async function statusJson(url: string): Promise<StatusJson> {
  const r = await runCli(["status", "--json", "--server", url]);
  check(r.code === 0, "status --json exit 0", r);
  return JSON.parse(r.stdout);
}

Deno.test("deploy with minContainers: 2 shows 2 warm sandboxes in status before any call", async () => {
  const cp = await startServe(["--with-workers", "--runner", "deno"]);
  try {
    await until("a worker is connected", async () => (await statusJson(cp.url)).workers.length > 0);
    const path = await writeApp(`import { App } from "${ROOT}sdk/mod.ts";
const app = new App("warm");
export const square = app.function({ minContainers: 2 }, function square(x: number) {
  return x * x;
});
`);
    const d = await runCli(["deploy", path, "--server", cp.url]);
    check(d.code === 0, "deploy exit 0", d);
    let last: StatusJson | undefined;
    await until(
      "2 warm containers of square",
      async () => {
        last = await statusJson(cp.url);
        return last.functions.some((f) => f.function === "square" && f.containers === 2);
      },
      60_000,
      () => JSON.stringify(last),
    );
    const square = last!.functions.find((f) => f.function === "square")!;
    strictEqual(square.running, 0, "no input ran: the sandboxes were warmed by the deploy");
  } finally {
    await cp.proc.stop();
  }
});

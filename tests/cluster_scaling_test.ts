// End-to-end: maxContainers counts across the cluster (three worker processes never run more
// than its value between them), and minContainers warm duty moves when its worker dies.
import { ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, startServe, writeApp } from "./_cli.ts";
import { status, until } from "./_autoscale_helpers.ts";

/** Pids of every descendant of `pid` (the sandboxes a worker process started). */
async function descendants(pid: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      // The command may hold spaces or parentheses: fields resume after the last ")".
      parent.set(Number(e.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

function startWorkers(url: string, n: number, concurrency: number): CliProcess[] {
  return Array.from({ length: n }, () =>
    new CliProcess([
      "worker",
      "--server",
      url,
      "--runner",
      "deno",
      "--concurrency",
      String(concurrency),
      "--quiet",
      // The tests count a worker's processes as its containers: no idle spare among them.
      "--no-spare",
    ]));
}

const CAPPED_APP = `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("capped");
// One id per container: the module is imported once per sandbox.
const container = crypto.randomUUID();
export const slow = app.function(
  { maxContainers: 2, scaledownWindowMs: 2_000, timeoutMs: 120_000 },
  async function slow(x: number) {
    const start = Date.now();
    await new Promise((r) => setTimeout(r, 1_200));
    return { y: x * x, container, start, end: Date.now() };
  },
);
app.localEntrypoint(async () => {
  const out = [];
  for await (const r of slow.map(Array.from({ length: 12 }, (_, i) => i))) out.push(r);
  console.log("RESULTS " + JSON.stringify(out));
});
`;

Deno.test("maxContainers: 2 holds across three workers under a backlog of slow inputs", async () => {
  const cp = await startServe(["--runner", "deno"]);
  // Capacity 4: the 12 inputs spread over the three workers, so all of them want containers.
  const workers = startWorkers(cp.url, 3, 4);
  let sampling = true;
  try {
    await until("three workers register", async () => (await status(cp.url)).workers.length === 3);
    const path = await writeApp(CAPPED_APP);
    let most = 0;
    let busyWorkers = 0;
    const samples: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const s = await status(cp.url).catch(() => undefined);
        const fn = s?.functions.find((f) => f.function === "slow");
        if (s && fn) {
          most = Math.max(most, fn.containers);
          busyWorkers = Math.max(busyWorkers, s.workers.filter((w) => w.busy > 0).length);
          samples.push(`${fn.containers}/${fn.running}/${fn.queued}`);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const r = await runCli(["run", path, "--server", cp.url], { timeoutMs: 180_000 });
    sampling = false;
    await sampler;
    check(r.code === 0, "run exit 0", r);
    const results = JSON.parse(r.stdout.match(/RESULTS (.*)/)![1]) as {
      y: number;
      container: string;
      start: number;
      end: number;
    }[];
    strictEqual(results.length, 12);
    results.forEach((res, i) => strictEqual(res.y, i * i, `result ${i}`));
    // The functions' own clocks: never more than 2 inputs (one per container) at once.
    const edges = results.flatMap((res) => [[res.start, 1], [res.end, -1]])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, running += d);
    ok(peak <= 2, `at most 2 inputs ran at once, saw ${peak}`);
    ok(samples.length > 5, `status was sampled during the run (${samples.length} samples)`);
    ok(most <= 2, `status never showed more than 2 containers of slow: ${samples.join(" ")}`);
    ok(busyWorkers >= 2, `inputs were spread over several workers (${busyWorkers} busy at once)`);
    // The CLI's JSON form reads the same counts.
    const j = await runCli(["status", "--json", "--server", cp.url]);
    check(j.code === 0, "status --json exit 0", j);
    const slow = JSON.parse(j.stdout).functions.find((f: { function: string }) =>
      f.function === "slow"
    );
    ok(!slow || slow.containers <= 2, j.stdout);
  } finally {
    sampling = false;
    await Promise.all(workers.map((w) => w.stop()));
    await cp.proc.stop();
  }
});

Deno.test("when the worker holding a warm duty dies, another starts the warm containers", async () => {
  const cp = await startServe(["--runner", "deno"]);
  const workers = startWorkers(cp.url, 2, 8);
  try {
    await until("two workers register", async () => (await status(cp.url)).workers.length === 2);
    const path = await writeApp(`import { App } from "${ROOT}sdk/mod.ts";
const app = new App("warm-duty");
export const square = app.function({ minContainers: 2 }, function square(x: number) {
  return x * x;
});
`);
    const d = await runCli(["deploy", path, "--server", cp.url]);
    check(d.code === 0, "deploy exit 0", d);
    const containers = async () =>
      (await status(cp.url)).functions.find((f) => f.function === "square")?.containers ?? 0;
    await until("2 warm containers", async () => (await containers()) === 2, 60_000);
    const children = await Promise.all(workers.map((w) => descendants(w.child.pid)));
    const holders = workers.filter((_, i) => children[i].length > 0);
    strictEqual(holders.length, 1, "one worker keeps the warm containers, not each");
    const holder = holders[0];
    const other = workers.find((w) => w !== holder)!;
    await holder.stop("SIGKILL");
    await until("the dead worker is gone", async () => (await status(cp.url)).workers.length === 1);
    const since = Date.now();
    // A few heartbeats (5 s each) and a sandbox start.
    await until(
      "the other worker warms 2 containers",
      async () => (await containers()) === 2,
      30_000,
    );
    ok((await descendants(other.child.pid)).length > 0, "the surviving worker runs them");
    console.log(`warm duty taken over in ${Date.now() - since} ms`);
    const r = await runCli(["run", `${path}::square`, "--server", cp.url, "--", "7"]);
    check(r.code === 0, "a call still works", r);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await cp.proc.stop();
  }
});

/**
 * The memory figures of the default-options benchmarks (issue 14): peak RSS of the server
 * (`serve --with-workers`: control plane and worker in one process) and of its largest sandbox
 * during one 20k map, then `rounds` maps in a row on the same server with its RSS after each.
 * RSS is sampled from /proc every 20 ms.
 */
import type { Row } from "./_table.ts";
import { runAppJson } from "./_bench_app_run.ts";
import { startServe } from "./_serve.ts";
import { descendants, rssMiB } from "./_proc.ts";

const N = 20_000;

/** Samples peak RSS of `pid` and of its largest descendant until stopped. */
function sampleRss(pid: number): { stop(): { server: number; sandbox: number; now: number } } {
  let server = 0, sandbox = 0;
  const tick = () => {
    server = Math.max(server, rssMiB(pid));
    for (const c of descendants(pid)) sandbox = Math.max(sandbox, rssMiB(c));
  };
  const id = setInterval(tick, 20);
  return {
    stop() {
      clearInterval(id);
      tick();
      return { server, sandbox, now: rssMiB(pid) };
    },
  };
}

const rate = (n: number, msTaken: number) =>
  `${Math.round(n / (msTaken / 1000)).toLocaleString("en-US")} inputs/s`;

function mapApp(url: string, args: string[], onLine?: (line: string) => void) {
  return runAppJson<{ ms: number[] }>("_defaults_app.ts", {
    where: ["--server", url],
    args: ["map", ...args],
    onLine,
  });
}

/**
 * The memory rows on a running server (`pid`, already warmed up): one 20k map with its rate and
 * peak RSS, then `rounds` maps in a row with the server's RSS after each.
 */
export async function memoryRows(url: string, pid: number, rounds: number): Promise<Row[]> {
  const rows: Row[] = [];
  const start = rssMiB(pid);
  const s1 = sampleRss(pid);
  const one = (await mapApp(url, [String(N)])).ms;
  const m1 = s1.stop();
  rows.push({
    name: `.map of ${N} trivial inputs (defaults)`,
    value: rate(N, one[0]),
    goal: "≥ 20,000/s",
  });
  rows.push({
    name: `peak RSS during the ${N} map (defaults)`,
    value: `server ${m1.server.toFixed(0)} MiB, largest sandbox ${m1.sandbox.toFixed(0)} MiB`,
    baseline: `server before it ${start.toFixed(0)} MiB`,
    goal: "≤ 300 MiB",
  });
  const s2 = sampleRss(pid);
  const after: number[] = []; // the server's RSS as each map ends
  const many = (await mapApp(url, [String(N), String(rounds)], (line) => {
    if (line.startsWith('{"round"')) after.push(rssMiB(pid));
  })).ms;
  const m2 = s2.stop();
  rows.push({
    name: `${rounds} × ${N} maps on one server (defaults)`,
    value: `peak server ${m2.server.toFixed(0)} MiB, after ${m2.now.toFixed(0)} MiB`,
    baseline: `rates ${rate(N, Math.max(...many))}–${rate(N, Math.min(...many)).split(" ")[0]}`,
    goal: "< 300 MiB",
  });
  rows.push({
    name: `server RSS after each of the ${rounds} maps (MiB)`,
    value: after.map((m) => m.toFixed(0)).join(" "),
  });
  return rows;
}

/** `deno task bench memory [rounds]`: the memory rows alone, on a server of their own. */
export async function memoryBench(rounds = 10): Promise<Row[]> {
  const { url, child } = await startServe();
  try {
    await mapApp(url, ["2000"]);
    return await memoryRows(url, child.pid, rounds);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

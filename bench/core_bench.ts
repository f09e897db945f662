/**
 * Foundation benchmarks: warm `.remote()` latency and `.map` throughput through
 * `serve --with-workers`, and a fresh app's first call, each against a
 * baseline measured in the same run.
 */
import { ms, percentile, type Row } from "./_table.ts";
import { startServe } from "./_serve.ts";
import { runBenchApp } from "./_bench_app_run.ts";

/** Round trips of a plain `fetch` to a `Deno.serve` in another process (keep-alive, loopback). */
export async function fetchBaseline(n: number): Promise<number[]> {
  const floor = await startFloorServer();
  const samples: number[] = [];
  try {
    for (let i = 0; i < n + 200; i++) {
      const t = performance.now();
      await (await fetch(floor.url)).text();
      if (i >= 200) samples.push(performance.now() - t);
    }
  } finally {
    await floor.stop();
  }
  return samples;
}

/** A trivial HTTP server in a process of its own: what the loopback fetch floor fetches. */
export async function startFloorServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(a.port) }, () => new Response("ok"))`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value?.trim());
  reader.releaseLock();
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      child.kill();
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

async function denoRunEmpty(times: number): Promise<number[]> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, "export {};\n");
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await new Deno.Command(Deno.execPath(), { args: ["run", file], stdout: "null", stderr: "null" })
      .output();
    samples.push(performance.now() - t);
  }
  await Deno.remove(file);
  return samples;
}

/** Runs the foundation benchmarks and returns their rows. */
export async function coreBench(): Promise<Row[]> {
  // The floor apart, before anything else runs; the ratios' floor is the one interleaved with the
  // calls (a fetch before each, in their process): measured apart, it read 0.04–0.13 ms from run
  // to run on this machine, a swing that made the ratio say nothing (as in defaults_bench.ts).
  const apart = await fetchBaseline(2000);
  const emptyRun = percentile(await denoRunEmpty(5), 50);
  const { url, child } = await startServe(["--concurrency", "4096"]);
  const floorServer = await startFloorServer();
  try {
    const r = await runBenchApp({ server: url }, 2000, 20_000, floorServer.url);
    const p50 = percentile(r.warm, 50);
    const p99 = percentile(r.warm, 99);
    const baseP50 = percentile(r.floor, 50), baseP99 = percentile(r.floor, 99);
    const apartP50 = percentile(apart, 50), apartP99 = percentile(apart, 99);
    const rate = r.mapCount / (r.mapMs / 1000);
    return [
      {
        name: "warm .remote() p50 (serve --with-workers)",
        value: ms(p50),
        baseline: `fetch→Deno.serve p50 ${ms(baseP50)} interleaved (apart: ${ms(apartP50)}, ${
          (p50 / apartP50).toFixed(1)
        }×)`,
        ratio: `${(p50 / baseP50).toFixed(1)}×`,
        goal: "≤ 5×",
      },
      {
        name: "warm .remote() p99",
        value: ms(p99),
        baseline: `fetch→Deno.serve p99 ${ms(baseP99)} interleaved (apart: ${ms(apartP99)})`,
        ratio: `${(p99 / baseP99).toFixed(1)}×`,
      },
      {
        name: ".map of 20,000 trivial inputs",
        value: `${Math.round(rate).toLocaleString("en-US")} inputs/s`,
        goal: "≥ 20,000/s",
      },
      {
        name: "first call of a fresh app (cold sandbox)",
        value: ms(r.coldMs),
        baseline: `deno run empty module ${ms(emptyRun)}`,
        ratio: `${(r.coldMs / emptyRun).toFixed(1)}×`,
      },
    ];
  } finally {
    await floorServer.stop();
    child.kill("SIGTERM");
    await child.status;
  }
}

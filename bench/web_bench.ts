/**
 * Web endpoints: a warm trivial GET through the control plane (gateway →
 * the worker's direct web stream → sandbox and back), against the same
 * handler served directly by `Deno.serve` in the same run, at concurrency 32.
 * The two alternate for a few rounds and each keeps its best round, so a
 * burst of load from elsewhere on a shared machine skews neither side alone.
 */
import { ms, percentile, type Row } from "./_table.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CONCURRENCY = 32;
const REQUESTS = 4_000;
const ROUNDS = 3;
const TOKEN = crypto.randomUUID().replaceAll("-", "");

/** Sends REQUESTS GETs from CONCURRENCY loops; returns latencies (ms) and requests/s. */
async function load(url: string): Promise<{ p50: number; rps: number }> {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) {
      const t = performance.now();
      const res = await fetch(url);
      await res.text();
      if (res.status !== 200) throw new Error(`GET ${url} gave ${res.status}`);
      samples.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { p50: percentile(samples, 50), rps: samples.length / seconds };
}

/** A CLI process whose output collects in `text`. */
class Proc {
  readonly child: Deno.ChildProcess;
  text = "";
  readonly done: Promise<void>;
  constructor(args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}main.ts`, ...args],
      env: { NANO_MODAL_TOKEN: TOKEN },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    const read = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) this.text += dec.decode(c);
    };
    this.done = Promise.all([read(this.child.stdout), read(this.child.stderr)]).then(() => {});
  }
  async stop(signal: Deno.Signal): Promise<void> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    await this.done;
    await this.child.status;
  }
}

async function waitFor(get: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; i < 600; i++) {
    const m = get().match(pattern);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`web bench: timed out waiting for ${pattern}: ${get()}`);
}

/** Runs the web endpoint benchmark. */
export async function webBench(): Promise<Row[]> {
  const direct = Deno.serve({ port: 0, onListen: () => {} }, () => new Response("ok"));
  const directUrl = `http://127.0.0.1:${(direct.addr as Deno.NetAddr).port}/`;
  const serve = new Proc(["serve", "--port", "0", "--with-workers", "1", "--runner", "deno"]);
  let run: Proc | undefined;
  try {
    const [, server] = await waitFor(() => serve.text, /listening on (http:\/\/\S+)/);
    run = new Proc(["run", "--server", server, `${ROOT}bench/_web_app.ts`]);
    const app = run;
    const [, url] = await waitFor(() => app.text, /ok: (http:\/\/\S+)/);
    for (let i = 0; i < 50; i++) await (await fetch(url)).text(); // warm: container up
    const baseline = { p50: Infinity, rps: 0 };
    const gateway = { p50: Infinity, rps: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [best, target] of [[baseline, directUrl], [gateway, url]] as const) {
        const r = await load(target);
        best.p50 = Math.min(best.p50, r.p50);
        best.rps = Math.max(best.rps, r.rps);
      }
    }
    return [
      {
        name: `web GET p50, concurrency ${CONCURRENCY}`,
        value: ms(gateway.p50),
        baseline: `${ms(baseline.p50)} (Deno.serve direct)`,
        ratio: `${(gateway.p50 / baseline.p50).toFixed(1)}×`,
        goal: "≤ 3×",
      },
      {
        name: `web GET requests/s, concurrency ${CONCURRENCY}`,
        value: `${Math.round(gateway.rps)}/s`,
        baseline: `${Math.round(baseline.rps)}/s (Deno.serve direct)`,
        ratio: `${(gateway.rps / baseline.rps).toFixed(2)}×`,
        goal: "≥ 5,000/s",
      },
    ];
  } finally {
    await run?.stop("SIGINT");
    await serve.stop("SIGTERM");
    await direct.shutdown();
  }
}

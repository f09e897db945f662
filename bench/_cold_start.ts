/**
 * Cold start (issue 14): `nano-modal run hello.ts` from process start to
 * exit, on a fresh app file each time (so no bundle is cached) with the
 * embedded deno runner, against `deno run` of a script that imports the SDK
 * and calls `square.local(5)`, alternating in the same run. Both are timed
 * from outside, spawn to exit. The run's phases come from its
 * `NANO_MODAL_TRACE` marks (ms since its process started). Beside them, for
 * reference: the default runner with no local server, and plain `run` (no
 * flags) while a `serve --with-workers --runner deno` runs on this machine,
 * which it finds by itself (its worker keeps a spare sandbox).
 */
import { ms, percentile, type Row } from "./_table.ts";
import { startServe } from "./_serve.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Spawns deno with `args`; returns the wall time to exit and what it printed on stderr. */
async function timed(args: string[], env: Record<string, string> = {}) {
  const t = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = performance.now() - t;
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`${args.join(" ")} failed: ${stderr}`);
  return { wall, stderr };
}

/** The trace marks of one run: phase -> ms since its process started. */
function marks(stderr: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of stderr.matchAll(/^nano-modal trace (\d+(?:\.\d+)?) (.+)$/gm)) {
    if (!found.has(m[2])) found.set(m[2], Number(m[1]));
  }
  return found;
}

/** The runner `nano-modal run` picks here without --runner (as it announces it). */
async function defaultRunner(): Promise<string> {
  const hello = `${ROOT}examples/hello.ts`;
  const { stderr } = await timed(["run", "-A", `${ROOT}main.ts`, "run", hello], {
    NANO_MODAL_LOCAL_SERVER: "0",
  });
  return /using the (\w+) runner/.exec(stderr)?.[1] ?? "unknown";
}

/** Rows for `times` alternating runs of each. */
export async function coldStartRows(times: number): Promise<Row[]> {
  const hello = await Deno.readTextFile(`${ROOT}examples/hello.ts`);
  const run: number[] = [], local: number[] = [], version: number[] = [], auto: number[] = [];
  // A resident `serve --with-workers --runner deno`: its worker keeps a spare sandbox.
  const resident = await startServe();
  const viaServer: number[] = [];
  const phases = new Map<string, number[]>();
  for (let i = 0; i < times; i++) {
    const tag = crypto.randomUUID().slice(0, 8);
    const a = `${ROOT}bench/.cold_${tag}.ts`;
    const b = `${ROOT}bench/.local_${tag}.ts`;
    await Deno.writeTextFile(a, `${hello}\n// ${tag}\n`);
    await Deno.writeTextFile(
      b,
      `import { App } from "@nano/modal";\nconst app = new App("l${tag}");\n` +
        `const square = app.function(function square(x: number) { return x * x; });\n` +
        `console.log(await square.local(5));\n`,
    );
    try {
      const r = await timed(["run", "-A", `${ROOT}main.ts`, "run", "--runner", "deno", a], {
        NANO_MODAL_TRACE: "1",
      });
      run.push(r.wall);
      for (const [phase, at] of marks(r.stderr)) {
        phases.set(phase, [...phases.get(phase) ?? [], at]);
      }
      local.push((await timed(["run", "-A", b])).wall);
      version.push((await timed(["run", "-A", `${ROOT}main.ts`, "--version"])).wall);
      // The runner a user gets without --runner and no local server: docker where a daemon answers.
      await Deno.writeTextFile(a, `${hello}\n// ${tag} auto\n`);
      auto.push(
        (await timed(["run", "-A", `${ROOT}main.ts`, "run", a], { NANO_MODAL_LOCAL_SERVER: "0" }))
          .wall,
      );
      // No flags: the local server is found.
      await Deno.writeTextFile(a, `${hello}\n// ${tag} resident\n`);
      const r2 = await timed(["run", "-A", `${ROOT}main.ts`, "run", a]);
      if (!r2.stderr.includes(`using the local server at ${resident.url}`)) {
        throw new Error(`run did not use the local server: ${r2.stderr}`);
      }
      viaServer.push(r2.wall);
    } finally {
      await Deno.remove(a).catch(() => {});
      await Deno.remove(b).catch(() => {});
    }
  }
  resident.child.kill("SIGTERM");
  await resident.child.status;
  // Plain `run` with a local `serve --with-workers` on the default runner (docker where a daemon
  // answers): its worker keeps a spare container.
  const residentDefault = await startServe([], null);
  const viaDefault: number[] = [];
  try {
    for (let i = 0; i < times + 1; i++) {
      const tag = crypto.randomUUID().slice(0, 8);
      const a = `${ROOT}bench/.cold_${tag}.ts`;
      await Deno.writeTextFile(a, `${hello}\n// ${tag} resident default\n`);
      try {
        const r = await timed(["run", "-A", `${ROOT}main.ts`, "run", a]);
        if (!r.stderr.includes(`using the local server at ${residentDefault.url}`)) {
          throw new Error(`run did not use the local server: ${r.stderr}`);
        }
        // The first builds the default image where it is missing (a spare never does).
        if (i > 0) viaDefault.push(r.wall);
      } finally {
        await Deno.remove(a).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 700)); // the next spare's start, as between edits
    }
  } finally {
    residentDefault.child.kill("SIGTERM");
    await residentDefault.child.status;
  }
  const c = percentile(run, 50), l = percentile(local, 50);
  const order = [...phases].sort((x, y) => percentile(x[1], 50) - percentile(y[1], 50));
  return [
    {
      name: `nano-modal run hello.ts (fresh file, --runner deno), start→exit p50 of ${times}`,
      value: ms(c),
      baseline: `deno run .local(5) ${ms(l)}`,
      ratio: `${(c / l).toFixed(1)}×`,
      goal: "≤ 2×",
    },
    {
      name: "  its phases (p50, ms since process start; exit at the wall time)",
      value: order.map(([p, at]) => `${p} ${percentile(at, 50).toFixed(0)}`).join(" · "),
    },
    {
      name:
        `nano-modal run hello.ts (fresh file, no local server, default runner: ${await defaultRunner()}), p50`,
      value: ms(percentile(auto, 50)),
      baseline: `deno run .local(5) ${ms(l)}`,
      ratio: `${(percentile(auto, 50) / l).toFixed(1)}×`,
      goal: "≤ 2×",
    },
    {
      name: "nano-modal run hello.ts (fresh file, no flags; a local serve --with-workers " +
        "--runner deno runs, found by itself, its spare sandbox ready), p50",
      value: ms(percentile(viaServer, 50)),
      baseline: `deno run .local(5) ${ms(l)}`,
      ratio: `${(percentile(viaServer, 50) / l).toFixed(1)}×`,
    },
    {
      name: `nano-modal run hello.ts (fresh file, no flags; a local serve --with-workers on the ` +
        `default runner, ${await defaultRunner()}, runs, its spare ready), p50`,
      value: ms(percentile(viaDefault, 50)),
      baseline: `deno run .local(5) ${ms(l)}`,
      ratio: `${(percentile(viaDefault, 50) / l).toFixed(1)}×`,
    },
    {
      name: "nano-modal --version, start→exit p50",
      value: ms(percentile(version, 50)),
      baseline: `deno run .local(5) ${ms(l)}`,
      ratio: `${(percentile(version, 50) / l).toFixed(1)}×`,
    },
  ];
}

/**
 * The architecture, checked against the real import graph (`deno info
 * --json` over every TypeScript file of the repo: entry points, tests,
 * benches, examples). It fails on:
 * - a forbidden arrow: sdk → control, runner or cli; control ↔ runner;
 *   proto → any of our files outside proto;
 * - an import of another folder's `_private` file (a file whose path has a
 *   segment starting with `_` may be imported only from inside that folder);
 * - an import of `proto/gen/` from outside proto (proto/messages.ts is its door);
 * - a deep import past a door: from outside sdk/, cli/, control/ or runner/,
 *   only that folder's `mod.ts` (proto's leaf modules are public on purpose:
 *   SDK files that end up in user bundles import them instead of the barrel),
 *   or one of the {@linkcode LIGHT_DOORS};
 * - an SDK file importing the proto barrel (it would drag Connect into bundles).
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const DOORS = new Set(["sdk", "cli", "control", "runner"]);
/**
 * Second doors, each for what must load before its folder's `mod.ts` would (which loads all of
 * it), or what is not its public API: `runner/early.ts`, the early spare container `nano-modal
 * run` starts before the runner; `sdk/bundle.ts`, the bundler the CLI starts before the app.
 */
const LIGHT_DOORS = new Set(["runner/early.ts", "sdk/bundle.ts"]);
const FORBIDDEN: Record<string, string[]> = {
  sdk: ["control", "runner", "cli"],
  control: ["runner"],
  runner: ["control"],
};

/**
 * Known violations in files another change owns, each with the fix that
 * removes it. Keep this list short and shrinking.
 */
const KNOWN = new Set([
  // control/store work (issue 7 §2) moves the Redis test support out of tests/.
  "control/redis_backend_test.ts -> tests/_redis_server.ts",
]);

async function repoFiles(dir: URL, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".") || ["dist", "node_modules", "gen"].includes(e.name)) continue;
    const path = `${rel}${e.name}`;
    if (e.isDirectory) out.push(...await repoFiles(new URL(`${e.name}/`, dir), `${path}/`));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Every import edge between two of our files, as "from -> to" (paths relative to the repo). */
export async function importEdges(): Promise<string[]> {
  const files = await repoFiles(ROOT);
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-arch-" });
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(new URL(f, ROOT).href)};`).join("\n"),
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`deno info failed: ${new TextDecoder().decode(stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    const edges = new Set<string>();
    for (const m of info.modules) {
      if (!m.specifier.startsWith(ROOT.href)) continue;
      const from = m.specifier.slice(ROOT.href.length);
      for (const d of m.dependencies ?? []) {
        for (const to of [d.code?.specifier, d.type?.specifier]) {
          if (to?.startsWith(ROOT.href)) edges.add(`${from} -> ${to.slice(ROOT.href.length)}`);
        }
      }
    }
    return [...edges].sort();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What is wrong with one edge, or undefined if it is allowed. */
export function violation(from: string, to: string): string | undefined {
  const top = (p: string) => p.includes("/") ? p.slice(0, p.indexOf("/")) : "";
  const [a, b] = [top(from), top(to)];
  if (FORBIDDEN[a]?.includes(b)) return `${a}/ must not import ${b}/`;
  if (a === "proto" && b !== "proto" && to !== "deno.json") {
    return "proto/ must not import our files outside proto";
  }
  const segments = to.split("/");
  const privateAt = segments.findIndex((s) => s.startsWith("_"));
  if (privateAt >= 0) {
    const owner = segments.slice(0, privateAt).join("/") + "/";
    if (!from.startsWith(owner)) return `${to} is private to ${owner}`;
  }
  if (to.startsWith("proto/gen/") && a !== "proto") {
    return "proto/gen/ is reached only through proto/messages.ts";
  }
  if (DOORS.has(b) && a !== b && to !== `${b}/mod.ts` && !LIGHT_DOORS.has(to)) {
    return `import ${b}/mod.ts, the door of ${b}/, not ${to}`;
  }
  if (a === "sdk" && to === "proto/mod.ts") {
    return "SDK files import proto's leaf modules, not the barrel (it brings Connect)";
  }
  return undefined;
}

Deno.test("the import graph has no forbidden arrow, private import or deep import past a door", async () => {
  const edges = await importEdges();
  strictEqual(edges.includes("main.ts -> cli/mod.ts"), true, "the graph was read");
  const bad = edges.flatMap((edge) => {
    const [from, to] = edge.split(" -> ");
    const why = violation(from, to);
    return why && !KNOWN.has(edge) ? [`${edge}: ${why}`] : [];
  });
  deepStrictEqual(bad, []);
});

Deno.test("violation() names each kind of broken rule", () => {
  deepStrictEqual(
    [
      violation("sdk/app.ts", "control/mod.ts"),
      violation("control/server.ts", "runner/mod.ts"),
      violation("runner/worker.ts", "control/mod.ts"),
      violation("proto/payload.ts", "sdk/errors.ts"),
      violation("cli/run.ts", "sdk/_session.ts"),
      violation("control/server.ts", "proto/gen/nano_modal_pb.ts"),
      violation("main.ts", "cli/run.ts"),
      violation("sdk/app.ts", "proto/mod.ts"),
      violation("cli/_run_server.ts", "runner/docker/early_spare.ts"),
    ].map((v) => v !== undefined),
    [true, true, true, true, true, true, true, true, true],
  );
  deepStrictEqual(
    [
      violation("main.ts", "cli/mod.ts"),
      violation("sdk/app.ts", "proto/payload.ts"),
      violation("runner/docker/_container.ts", "runner/_protocol.ts"),
      violation("proto/messages.ts", "proto/gen/nano_modal_pb.ts"),
      violation("cli/_embedded.ts", "control/mod.ts"),
      violation("cli/_run_server.ts", "runner/early.ts"),
    ],
    [undefined, undefined, undefined, undefined, undefined, undefined],
  );
});

/**
 * What Deno reads when `entry` starts: every module its code reaches, dynamic imports it can
 * see included (`typeof import(...)`, for the type checker only, excluded), as paths relative
 * to the repo, and npm packages as `npm:<name>`.
 */
async function readAtStart(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno info failed: ${new TextDecoder().decode(stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { code?: { specifier?: string } }[] }[];
  };
  const byUrl = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length) {
    const url = todo.pop()!;
    if (seen.has(url)) continue;
    seen.add(url);
    for (const d of byUrl.get(url)?.dependencies ?? []) {
      if (d.code?.specifier) todo.push(d.code.specifier);
    }
  }
  return [...seen].map((url) =>
    url.startsWith(ROOT.href)
      ? url.slice(ROOT.href.length)
      : url.replace(/^npm:\/?((?:@[^/@]+\/)?[^/@]+).*$/, "npm:$1")
  );
}

Deno.test("a command reads, as it starts, only what it runs: no subcommand's graph but its own", async () => {
  const [cli, run, embedded] = await Promise.all(
    ["main.ts", "cli/run.ts", "cli/_embedded.ts"].map(readAtStart),
  );
  strictEqual(cli.includes("cli/mod.ts") && run.includes("cli/_run_server.ts"), true, "read");
  // `nano-modal --version` or `status`: none of the control plane, runner or client.
  deepStrictEqual(
    cli.filter((p) => /^(control|runner|autoscale)\/|^sdk\/_session|^npm:/.test(p)),
    [],
  );
  // A run through a server: the client, but neither an embedded control plane nor its runner.
  deepStrictEqual(
    run.filter((p) =>
      /^control\/|^runner\/(mod|worker|deno_runner)\.ts|^npm:(dockerode|ioredis)/.test(p)
    ),
    [],
  );
  // An embedded control plane and worker: dockerode only once the docker runner connects.
  strictEqual(embedded.includes("runner/worker.ts"), true, "read");
  deepStrictEqual(embedded.filter((p) => p === "npm:dockerode"), []);
});

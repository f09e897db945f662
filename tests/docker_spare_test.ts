// End-to-end: a `nano-modal worker` on the docker runner keeps a container of the default image
// started ahead; a new app's first sandbox is that container, another is started for the next
// app, a function that would start differently (blockNetwork) gets a container of its own and
// leaves the spare alone, and the worker's exit leaves no container behind.
import { notStrictEqual, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe, writeApp } from "./_cli.ts";
import { until } from "./_autoscale_helpers.ts";

async function docker(args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`docker ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Ids (12 characters) of running containers that mount something under `dir`: all, or only
 * spares still waiting (an adopted one keeps its label, but its app is named in its directory).
 * Retried by the caller: a container ending as it is listed may still be counted.
 */
async function containersOf(dir: string, waiting: boolean): Promise<string[]> {
  const filter = waiting ? ["--filter", "label=nano-modal.spare=1"] : [];
  const ids = (await docker(["ps", "-q", "--no-trunc", ...filter])).split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  // One at a time: other tests' containers come and go, and one gone fails a joint inspect.
  const found = (await Promise.all(
    ids.map((id) => docker(["inspect", id]).then((out) => JSON.parse(out), () => [])),
  )).flat() as { Id: string; Mounts: { Source: string; Destination: string }[] }[];
  const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
  const out: string[] = [];
  for (const c of found) {
    const run = c.Mounts.find((m) =>
      m.Source.startsWith(`${dir}/`) && m.Destination === "/nano-modal/run"
    );
    if (!run) continue;
    // Its directory goes as it ends; an adopted one's names its app.
    if (waiting && (!await exists(run.Source) || await exists(`${run.Source}/assign.json`))) {
      continue;
    }
    out.push(c.Id.slice(0, 12));
  }
  return out.sort();
}

/** An app whose function says which container it runs in (a container's hostname is its id). */
function hostApp(name: string, options = "{}"): string {
  return `import { App } from "@nano/modal";
const app = new App(${JSON.stringify(name)});
export const host = app.function(${options}, function host() { return Deno.hostname(); });
`;
}

/** A serve and a docker worker on a cache dir of their own; killed, and their containers gone, after. */
async function withDockerWorker(
  prefix: string,
  fn: (w: {
    dir: string;
    cache: string;
    worker: CliProcess;
    /** Runs app `name`'s `host` function; returns what it printed (its container's id). */
    runHost: (name: string, options?: string) => Promise<string>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const cache = `${dir}/cache`;
  const env = { NANO_MODAL_CACHE: cache };
  const { proc: server, url } = await startServe([], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "docker"], { env });
  const runHost = async (name: string, options?: string) => {
    const r = await runCli(
      ["run", "--server", url, `${await writeApp(hostApp(name, options), dir)}::host`],
      { timeoutMs: 120_000 },
    );
    check(r.code === 0, `app ${name}'s call`, r);
    return r.stdout.trim();
  };
  try {
    await worker.waitFor(/serving/, 30_000);
    // The default image exists once a function has used it (a spare never builds it).
    await fn({ dir, cache, worker, runHost });
  } finally {
    await worker.stop("SIGKILL");
    await server.stop("SIGKILL");
    for (const id of await containersOf(cache, false).catch(() => [])) {
      await docker(["rm", "-f", id]).catch(() => {});
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("a docker worker's kept spare container becomes a new app's first sandbox, is started again, and goes with the worker", async () => {
  await withDockerWorker("nm-docker-spare-", async ({ cache, worker, runHost }) => {
    await runHost("warm");
    const spare = async () => (await containersOf(cache, true))[0];
    // The same one twice in a row: a spare started just as the warm-up's container was made
    // from the one before may still be replaced.
    let seen: string | undefined;
    await until("a spare container waits", async () => {
      const now = await spare();
      const settled = now !== undefined && now === seen;
      seen = now;
      return settled;
    }, 30_000);
    const first = seen!;
    strictEqual(await runHost("one"), first, "the first app ran in the spare");

    // One that starts differently gets its own container; the spare is kept.
    await until("a second spare", async () => ![undefined, first].includes(await spare()), 30_000);
    const second = (await spare())!;
    notStrictEqual(await runHost("blocked", "{ blockNetwork: true }"), second);
    strictEqual(await spare(), second, "the spare is still there");
    strictEqual(await runHost("two"), second, "the next app ran in it");

    // A drained worker removes its spare with its sandboxes.
    await until("a third spare", async () => ![undefined, second].includes(await spare()), 30_000);
    strictEqual(await worker.stop("SIGTERM"), 0);
    await until(
      "no container is left",
      async () => (await containersOf(cache, false)).length === 0,
      15_000,
    );
  });
});

Deno.test("a docker worker killed with SIGKILL leaves no spare container behind", async () => {
  await withDockerWorker("nm-docker-spare-kill-", async ({ cache, worker, runHost }) => {
    await runHost("killwarm");
    await until(
      "a spare container waits",
      async () => (await containersOf(cache, true)).length > 0,
      30_000,
    );
    await worker.stop("SIGKILL");
    // Its stdin (the worker's attach) closed: the entrypoint ends it, and it removes itself.
    await until(
      "no container is left",
      async () => (await containersOf(cache, false)).length === 0,
      15_000,
    );
  });
});

Deno.test("nano-modal run with no server starts its first container before loading the runner, as the last spare was, and leaves none behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm_early_spare_" });
  const cache = `${dir}/cache`;
  const file = await writeApp(hostApp("early-spare"), dir);
  const env = { NANO_MODAL_CACHE: cache, NANO_MODAL_TRACE: "1" };
  const run = async () => {
    const r = await runCli(["run", "--runner", "docker", `${file}::host`], {
      env,
      timeoutMs: 180_000,
    });
    check(r.code === 0, "the run", r);
    return { ...r, started: /trace [\d.]+ early spare started$/m.test(r.stderr) };
  };
  const none = async () =>
    await until(
      "no container of the runs is left",
      async () => (await containersOf(dir, false)).length === 0,
      15_000,
    );
  try {
    // The first run may build the default image; a run that finds it writes down its spare.
    let r = await run();
    const recipe = `${cache}/docker-spare.json`;
    if (!(await Deno.stat(recipe).then(() => true, () => false))) r = await run();
    const written = JSON.parse(await Deno.readTextFile(recipe));
    strictEqual(written.memoryMib, 512);
    check(written.image.includes("/deno:"), "the recipe names the default image", r);
    await none();
    // The next run starts that container first of all, and its call runs in it.
    r = await run();
    check(r.started && /early spare taken/.test(r.stderr), "the early spare was the sandbox", r);
    strictEqual(r.stdout.trim().length, 12, "a container's hostname is its id");
    await none();
    // One that is not what the runner would start now (another memory limit) is removed.
    await Deno.writeTextFile(recipe, JSON.stringify({ ...written, memoryMib: 256 }));
    r = await run();
    check(r.started && !/early spare taken/.test(r.stderr), "the unfit early spare went unused", r);
    await none();
    strictEqual(JSON.parse(await Deno.readTextFile(recipe)).memoryMib, 512, "written again");
    // A recipe that is not one starts nothing, and the run goes on.
    await Deno.writeTextFile(recipe, `{"image": "x", "entrypointPath": "relative"}`);
    r = await run();
    check(!r.started, "no early spare from a bad recipe", r);
    await none();
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

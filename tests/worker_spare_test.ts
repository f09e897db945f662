// End-to-end: a `nano-modal worker` on the deno runner keeps a sandbox process started ahead;
// a new app's first sandbox is that process, another is started for the next app, and the
// worker's exit (SIGTERM, or kill -9) leaves none behind. `--no-spare` keeps none.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe, writeApp } from "./_cli.ts";
import { until } from "./_autoscale_helpers.ts";
import { processesWith } from "./_processes.ts";

/** The spare sandboxes' directories of a worker's cache (an adopted one keeps its name). */
async function spareDirs(cache: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${cache}/sandboxes`)) {
      if (e.name.startsWith("nm-spare-")) names.push(e.name);
    }
  } catch {
    // Not made yet.
  }
  return names.sort();
}

/** An app whose function says which directory its sandbox runs in. */
function whereApp(name: string): string {
  // As users write it: linked to the SDK (which a worker's spares must not load ahead).
  return `import { App } from "@nano/modal";
const app = new App(${JSON.stringify(name)});
export const where = app.function(function where() { return Deno.cwd(); });
`;
}

Deno.test("a deno worker's kept spare becomes a new app's first sandbox, is started again, and goes with the worker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-kept-e2e-" });
  const cache = `${dir}/cache`;
  const env = { NANO_MODAL_CACHE: cache };
  const { proc: server, url } = await startServe([], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno"], { env });
  try {
    await worker.waitFor(/serving/, 30_000);
    await until("a spare waits", async () => (await spareDirs(cache)).length === 1, 15_000);
    const [first] = await spareDirs(cache);
    await until(
      "its process runs",
      async () => (await processesWith(`${cache}/sandboxes/${first}/`)).length > 0,
      15_000,
    );

    // Runs app `name`'s `where`, which prints the directory its sandbox runs in.
    const runWhere = async (name: string) =>
      runCli(["run", "--server", url, `${await writeApp(whereApp(name), dir)}::where`]);
    const one = await runWhere("one");
    check(one.code === 0, "the first app's call", one);
    match(one.stdout.trim(), new RegExp(`/${first}/`), "the first app ran in the spare");

    // Another is started for the next app, which runs in it: not in the first app's.
    // (The first app's sandbox, and its directory, went when its run ended.)
    const another = async (seen: string[]) =>
      (await spareDirs(cache)).find((n) => !seen.includes(n));
    await until("a second spare", async () => (await another([first])) !== undefined, 15_000);
    const second = (await another([first]))!;
    // A worker serves any client: no code of theirs (an SDK part of a bundle) runs ahead in a
    // spare, which loads nothing before its app (only `nano-modal run`'s own spare does).
    await new Promise((r) => setTimeout(r, 1_000));
    const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
    strictEqual(await exists(`${cache}/sandboxes/${second}/sdk.js`), false, "no SDK loaded");
    strictEqual(await exists(`${cache}/spare-sdk.js`), false, "no SDK learned");
    const two = await runWhere("two");
    check(two.code === 0, "the second app's call", two);
    match(
      two.stdout.trim(),
      new RegExp(`/${second}/`),
      `the second app ran in ${two.stdout}, not in ${second}`,
    );

    // A drained worker stops its spare with its sandboxes.
    await until(
      "a third spare",
      async () => (await another([first, second])) !== undefined,
      15_000,
    );
    strictEqual(await worker.stop("SIGTERM"), 0);
    await until(
      "no sandbox process is left",
      async () => (await processesWith(cache)).length === 0,
      10_000,
    );
  } finally {
    await worker.stop("SIGKILL");
    await server.stop("SIGKILL");
    for (const pid of await processesWith(cache)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("--no-spare: a deno worker starts no sandbox before an input", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-kept-e2e-" });
  const cache = `${dir}/cache`;
  const env = { NANO_MODAL_CACHE: cache };
  const { proc: server, url } = await startServe([], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno", "--no-spare"], {
    env,
  });
  try {
    await worker.waitFor(/serving/, 30_000);
    await new Promise((r) => setTimeout(r, 1_500));
    strictEqual((await processesWith(cache)).length, 0, "no sandbox process");
    const r = await runCli([
      "run",
      "--server",
      url,
      `${await writeApp(whereApp("ns"), dir)}::where`,
    ]);
    check(r.code === 0, "a call", r);
    ok(!r.stdout.includes("nm-spare-"), `ran in a sandbox of its own: ${r.stdout}`);
  } finally {
    await worker.stop("SIGKILL");
    await server.stop("SIGKILL");
    for (const pid of await processesWith(cache)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a deno worker whose cache this user's runs share loads the SDK they built ahead, and only that one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-kept-sdk-e2e-" });
  const cache = `${dir}/cache`;
  const env = { NANO_MODAL_CACHE: cache };
  const { proc: server, url } = await startServe([], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno"], { env });
  const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
  try {
    await worker.waitFor(/serving/, 30_000);
    const runWhere = async (name: string) => {
      // The client bundles into the worker's cache: its SDK is the one built here.
      const r = await runCli(
        ["run", "--server", url, `${await writeApp(whereApp(name), dir)}::where`],
        { env },
      );
      check(r.code === 0, `app ${name}'s call`, r);
      return r.stdout.trim();
    };
    await runWhere("one");
    // The spare started after the first app loads that app's SDK ahead.
    let next = "";
    await until("a spare with the SDK loaded", async () => {
      for (const name of await spareDirs(cache)) {
        if (await exists(`${cache}/sandboxes/${name}/sdk.js`)) next = name;
      }
      return next !== "";
    }, 15_000);
    match(await runWhere("two"), new RegExp(`/${next}/`), "the next app ran in it");
  } finally {
    await worker.stop("SIGKILL");
    await server.stop("SIGKILL");
    for (const pid of await processesWith(cache)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { openEmbeddedStore } from "./embedded_store.ts";
import { app, fnRecord } from "./_conformance_fixture.ts";

const STORE_URL = new URL("./embedded_store.ts", import.meta.url).href;

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nano_modal_durable_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts a deno process that runs `body` with `store` open on `dir`. */
function child(dir: string, body: string): Deno.ChildProcess {
  const code = `
    import { openEmbeddedStore } from ${JSON.stringify(STORE_URL)};
    const store = await openEmbeddedStore({ dataDir: ${JSON.stringify(dir)} });
    ${body}
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function firstLine(proc: Deno.ChildProcess): Promise<string> {
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value ?? "";
}

Deno.test("embedded: a reopened data dir has its apps, functions and blobs; this process's ephemeral apps come back stopped", async () => {
  await withDataDir(async (dataDir) => {
    let store = await openEmbeddedStore({ dataDir });
    const deployed = app("ap-deployed", { f: "fu-a" });
    await store.apps.putApp(deployed, [fnRecord("fu-a", "ap-deployed")]);
    await store.apps.putApp({ ...app("ap-run", {}), ephemeral: true }, []);
    await store.blobs.put("bundle1", new Uint8Array([1, 2, 3]));
    await store.close();
    store = await openEmbeddedStore({ dataDir });
    try {
      deepStrictEqual(await store.apps.getApp("ap-deployed"), deployed);
      deepStrictEqual(await store.apps.getFunction("fu-a"), fnRecord("fu-a", "ap-deployed"));
      equal((await store.apps.getApp("ap-run"))?.stopped, true);
      deepStrictEqual(await store.blobs.get("bundle1"), new Uint8Array([1, 2, 3]));
      const tmp = `${dataDir}/blobs/tmp`;
      ok([...Deno.readDirSync(tmp)].length === 0, "no upload left behind");
      const mode = (await Deno.stat(dataDir)).mode! & 0o777;
      equal(mode, 0o700, "the data dir is private");
    } finally {
      await store.close();
    }
  });
});

Deno.test("embedded: ephemeral apps of a process that died are stopped on the next open, a live process's are not", async () => {
  await withDataDir(async (dir) => {
    const put = (id: string) =>
      `await store.apps.putApp({ appId: "${id}", name: "${id}", ephemeral: true, stopped: false,
        createdMs: 1, bundleHash: "h", entryUrl: "file:///a.ts", functionIds: {} }, []);`;
    const crashed = child(dir, `${put("ap-crashed")} Deno.exit(0);`);
    equal((await crashed.status).code, 0);
    const alive = child(
      dir,
      `${put("ap-alive")} console.log("ready"); await Deno.stdin.read(new Uint8Array(1));`,
    );
    try {
      equal((await firstLine(alive)).trim(), "ready");
      const store = await openEmbeddedStore({ dataDir: dir });
      try {
        equal((await store.apps.getApp("ap-crashed"))?.stopped, true);
        equal((await store.apps.getApp("ap-alive"))?.stopped, false);
      } finally {
        await store.close();
      }
    } finally {
      await alive.stdin.close();
      await alive.status;
    }
  });
});

Deno.test("embedded: two processes writing one data dir at once lose nothing", async () => {
  await withDataDir(async (dir) => {
    const writer = (name: string) =>
      child(
        dir,
        `for (let i = 0; i < 100; i++) {
          await store.apps.putApp({ appId: "${name}-" + i, name: "${name}", ephemeral: false,
            stopped: false, createdMs: i, bundleHash: "h", entryUrl: "file:///a.ts",
            functionIds: { f: "fu-${name}-" + i } },
            [{ functionId: "fu-${name}-" + i, appId: "${name}-" + i, name: "f", def: new Uint8Array([i]) }]);
          if (i % 5 === 0) await store.blobs.put("${name}" + i, new Uint8Array(100_000).fill(i));
          if (i % 7 === 0) await store.blobs.put("shared" + i, new Uint8Array(50_000).fill(i));
        }
        await store.close();`,
      );
    const [a, b] = [writer("a"), writer("b")];
    deepStrictEqual([(await a.status).code, (await b.status).code], [0, 0]);
    const store = await openEmbeddedStore({ dataDir: dir });
    try {
      equal((await store.apps.listApps()).length, 200);
      equal((await store.apps.getFunction("fu-b-99"))?.appId, "b-99");
      for (let i = 0; i < 100; i += 5) {
        deepStrictEqual(await store.blobs.get(`a${i}`), new Uint8Array(100_000).fill(i));
        deepStrictEqual(await store.blobs.get(`b${i}`), new Uint8Array(100_000).fill(i));
      }
      for (let i = 0; i < 100; i += 7) {
        deepStrictEqual(await store.blobs.get(`shared${i}`), new Uint8Array(50_000).fill(i));
      }
      const leftovers = [...Deno.readDirSync(`${dir}/blobs/tmp`)];
      deepStrictEqual(leftovers, [], "no temporary files left");
    } finally {
      await store.close();
    }
  });
});

Deno.test("embedded: uploads abandoned by a writer that died are removed on open after an hour", async () => {
  await withDataDir(async (dataDir) => {
    await (await openEmbeddedStore({ dataDir })).close();
    const tmp = `${dataDir}/blobs/tmp`;
    await Deno.mkdir(tmp, { recursive: true });
    await Deno.writeFile(`${tmp}/old`, new Uint8Array(10));
    await Deno.writeFile(`${tmp}/fresh`, new Uint8Array(10));
    const hourAgo = new Date(Date.now() - 3_600_001);
    await Deno.utime(`${tmp}/old`, hourAgo, hourAgo);
    const store = await openEmbeddedStore({ dataDir });
    await store.close();
    deepStrictEqual([...Deno.readDirSync(tmp)].map((e) => e.name), ["fresh"]);
  });
});

Deno.test("embedded: processes on one data dir claim each tick once between them", async () => {
  await withDataDir(async (dataDir) => {
    await (await openEmbeddedStore({ dataDir })).close(); // migrate once, up front
    // All three start claiming at once, so they contend for the same ticks.
    const startAt = Date.now() + 2_000;
    const claims = `
      await new Promise((r) => setTimeout(r, ${startAt} - Date.now()));
      const won = [];
      for (let tick = 1; tick <= 500; tick++) if (await store.ticks.claim("fu-1", tick)) won.push(tick);
      console.log(JSON.stringify(won));
      await store.close();
    `;
    const procs = [child(dataDir, claims), child(dataDir, claims), child(dataDir, claims)];
    const won: number[][] = await Promise.all(procs.map(async (p) => {
      const out = await p.output();
      equal(out.code, 0);
      return JSON.parse(new TextDecoder().decode(out.stdout));
    }));
    const all = won.flat().sort((a, b) => a - b);
    deepStrictEqual(all, [...new Set(all)], `each tick claimed once: ${JSON.stringify(won)}`);
    ok(all.includes(500), `the last tick was claimed: ${JSON.stringify(won)}`);
    const store = await openEmbeddedStore({ dataDir });
    try {
      equal(await store.ticks.claim("fu-1", 500), false, "tick 500 is taken");
      equal(await store.ticks.claim("fu-1", 501), true);
    } finally {
      await store.close();
    }
  });
});

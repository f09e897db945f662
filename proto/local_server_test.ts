import { deepStrictEqual, equal } from "node:assert/strict";
import { announceLocalServer, discoverLocalServer } from "./local_server.ts";
import { announceLocalSocket } from "./local_socket.ts";
import { withRuntimeDir } from "./_with_runtime_dir.ts";

/** A server's socket on `port`, announced as the control plane's is. */
function listening(runtime: string, port: number): { close(): void } {
  const path = `${runtime}/${port}-${crypto.randomUUID().slice(0, 6)}.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const withdraw = announceLocalSocket(port, path);
  let open = true;
  return { close: () => open && (open = false, withdraw(), listener.close()) };
}

const server = (port: number, workers = 1) => ({
  url: `http://127.0.0.1:${port}`,
  port,
  workers,
});

Deno.test("a local server that announced itself is found while its socket answers", async () => {
  await withRuntimeDir(async (runtime) => {
    equal(await discoverLocalServer(), undefined, "nothing announced");
    const socket = listening(runtime, 50140);
    const withdraw = await announceLocalServer(server(50140, 2));
    deepStrictEqual(await discoverLocalServer(), { url: "http://127.0.0.1:50140", workers: 2 });
    Deno.env.set("NANO_MODAL_LOCAL_SERVER", "0");
    equal(await discoverLocalServer(), undefined, "opted out");
    Deno.env.delete("NANO_MODAL_LOCAL_SERVER");
    socket.close();
    equal(await discoverLocalServer(), undefined, "killed: its socket is gone");
    withdraw();
    equal(await Deno.stat(`${runtime}/nano-modal/server-50140.json`).then(() => 1, () => 0), 0);
  });
});

Deno.test("of two local servers the newest is used; one stopping leaves the other found", async () => {
  await withRuntimeDir(async (runtime) => {
    const a = listening(runtime, 50141), b = listening(runtime, 50142);
    try {
      const withdrawA = await announceLocalServer(server(50141));
      await new Promise((r) => setTimeout(r, 20)); // a later announcement
      const withdrawB = await announceLocalServer(server(50142));
      equal((await discoverLocalServer())?.url, "http://127.0.0.1:50142");
      withdrawB();
      equal(
        (await discoverLocalServer())?.url,
        "http://127.0.0.1:50141",
        "the first is still there",
      );
      withdrawA();
      equal(await discoverLocalServer(), undefined);
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("a killed server's announcement is not used by a server that took its port since", async () => {
  await withRuntimeDir(async (runtime) => {
    const first = listening(runtime, 50144);
    await announceLocalServer(server(50144)); // then killed: its announcement stays
    first.close();
    // Another server (an embedded run's, which announces no server) gets the same port.
    const second = listening(runtime, 50144);
    try {
      equal(await discoverLocalServer(), undefined);
    } finally {
      second.close();
    }
  });
});

Deno.test("an announcement in a directory others may open, or of another kind of URL, is not used", async () => {
  await withRuntimeDir(async (runtime) => {
    const socket = listening(runtime, 50143);
    try {
      await announceLocalServer(server(50143));
      Deno.chmodSync(`${runtime}/nano-modal`, 0o755);
      equal(await discoverLocalServer(), undefined, "not private");
      Deno.chmodSync(`${runtime}/nano-modal`, 0o700);
      const file = `${runtime}/nano-modal/server-50143.json`;
      const announced = JSON.parse(Deno.readTextFileSync(file));
      Deno.writeTextFileSync(file, JSON.stringify({ ...announced, url: "file:///etc" }));
      equal(await discoverLocalServer(), undefined, "not http");
      Deno.writeTextFileSync(file, "{not json");
      equal(await discoverLocalServer(), undefined, "unreadable");
    } finally {
      socket.close();
    }
  });
});

Deno.test("discovery takes a filter, skips a broken announcement, and a new announcement clears stale ones", async () => {
  await withRuntimeDir(async (runtime) => {
    const bare = listening(runtime, 50150), full = listening(runtime, 50151);
    try {
      await announceLocalServer(server(50151, 1));
      await new Promise((r) => setTimeout(r, 20));
      await announceLocalServer({ ...server(50150, 0), dataDir: runtime });
      equal((await discoverLocalServer())?.url, "http://127.0.0.1:50150", "the newest");
      equal((await discoverLocalServer((s) => s.workers > 0))?.url, "http://127.0.0.1:50151");
      equal(
        (await discoverLocalServer((s) => s.dataDir === Deno.realPathSync(runtime)))?.workers,
        0,
      );
      // A broken announcement (newest) does not hide the others.
      Deno.writeTextFileSync(`${runtime}/nano-modal/server-50152.json`, "null");
      equal((await discoverLocalServer((s) => s.workers > 0))?.url, "http://127.0.0.1:50151");
      // A killed server's announcement goes when another announces.
      full.close();
      const again = listening(runtime, 50153);
      await announceLocalServer(server(50153));
      const names = [...Deno.readDirSync(`${runtime}/nano-modal`)].map((e) => e.name).sort();
      deepStrictEqual(names.filter((n) => n.startsWith("server-")), [
        "server-50150.json",
        "server-50152.json",
        "server-50153.json",
      ]);
      again.close();
    } finally {
      bare.close();
      full.close();
    }
  });
});

import { equal } from "node:assert/strict";
import { announceLocalServer, discoverLocalServer } from "./local_server.ts";
import { announceLocalSocket } from "./local_socket.ts";
import { withRuntimeDir } from "./_with_runtime_dir.ts";

/** A server's socket on `port`, announced as the control plane's is. */
function listening(runtime: string, port: number): { close(): void } {
  const path = `${runtime}/${port}-server.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const withdraw = announceLocalSocket(port, path);
  return { close: () => (withdraw(), listener.close()) };
}

Deno.test("a local server that announced itself is found while its socket answers", async () => {
  await withRuntimeDir(async (runtime) => {
    equal(await discoverLocalServer(), undefined, "nothing announced");
    const socket = listening(runtime, 50140);
    const withdraw = await announceLocalServer("http://127.0.0.1:50140", 50140);
    equal(await discoverLocalServer(), "http://127.0.0.1:50140");
    Deno.env.set("NANO_MODAL_LOCAL_SERVER", "0");
    equal(await discoverLocalServer(), undefined, "opted out");
    Deno.env.delete("NANO_MODAL_LOCAL_SERVER");
    socket.close();
    equal(await discoverLocalServer(), undefined, "killed: its socket is gone");
    withdraw();
    equal(await Deno.stat(`${runtime}/nano-modal/server.json`).then(() => 1, () => 0), 0);
  });
});

Deno.test("a server that stops withdraws only its own announcement, not a later server's", async () => {
  await withRuntimeDir(async (runtime) => {
    const a = listening(runtime, 50141), b = listening(runtime, 50142);
    try {
      const withdrawA = await announceLocalServer("http://127.0.0.1:50141", 50141);
      const withdrawB = await announceLocalServer("http://127.0.0.1:50142", 50142);
      withdrawA();
      equal(await discoverLocalServer(), "http://127.0.0.1:50142");
      withdrawB();
      equal(await discoverLocalServer(), undefined);
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("an announcement in a directory others may open, or of another kind of URL, is not used", async () => {
  await withRuntimeDir(async (runtime) => {
    const socket = listening(runtime, 50143);
    try {
      await announceLocalServer("http://127.0.0.1:50143", 50143);
      Deno.chmodSync(`${runtime}/nano-modal`, 0o755);
      equal(await discoverLocalServer(), undefined, "not private");
      Deno.chmodSync(`${runtime}/nano-modal`, 0o700);
      const file = `${runtime}/nano-modal/server.json`;
      Deno.writeTextFileSync(file, JSON.stringify({ url: "file:///etc", port: 50143, pid: 1 }));
      equal(await discoverLocalServer(), undefined, "not http");
      Deno.writeTextFileSync(file, "{not json");
      equal(await discoverLocalServer(), undefined, "unreadable");
    } finally {
      socket.close();
    }
  });
});

import { deepStrictEqual, equal, ok, strictEqual } from "node:assert/strict";
import {
  announceLocalSocket,
  localSocketDir,
  localSocketFor,
  removeStaleServerDirs,
} from "./local_socket.ts";
import { withRuntimeDir } from "./_with_runtime_dir.ts";

/** A listening Unix socket, standing in for a server's. */
function socket(dir: string): { path: string; close(): void } {
  const path = `${dir}/server.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  return { path, close: () => listener.close() };
}

Deno.test("a server's socket is found by a loopback http URL of its port, and withdrawn at close", async () => {
  await withRuntimeDir(async (runtime) => {
    const server = socket(await Deno.makeTempDir({ dir: runtime }));
    try {
      const withdraw = announceLocalSocket(50123, server.path);
      equal(localSocketDir(), `${runtime}/nano-modal`);
      equal(Deno.statSync(`${runtime}/nano-modal`).mode! & 0o777, 0o700);
      const found = localSocketFor(new URL("http://127.0.0.1:50123"));
      equal(found, `${runtime}/nano-modal/50123.sock`);
      equal(localSocketFor(new URL("http://localhost:50123/")), found);
      equal(localSocketFor(new URL("http://[::1]:50123")), found);
      equal(localSocketFor(new URL("http://127.0.0.1:50124")), undefined, "another port");
      equal(localSocketFor(new URL("https://127.0.0.1:50123")), undefined, "TLS stays on TCP");
      equal(localSocketFor(new URL("http://10.1.2.3:50123")), undefined, "not loopback");
      Deno.env.set("NANO_MODAL_LOCAL_SOCKET", "0");
      equal(localSocketFor(new URL("http://127.0.0.1:50123")), undefined, "opted out");
      Deno.env.delete("NANO_MODAL_LOCAL_SOCKET");
      withdraw();
      equal(localSocketFor(new URL("http://127.0.0.1:50123")), undefined, "withdrawn");
    } finally {
      server.close();
    }
  });
});

Deno.test("a socket directory others may open is never used, so no one can stand in for the server", async () => {
  await withRuntimeDir(async (runtime) => {
    const server = socket(await Deno.makeTempDir({ dir: runtime }));
    try {
      announceLocalSocket(50125, server.path);
      ok(localSocketFor(new URL("http://127.0.0.1:50125")));
      Deno.chmodSync(`${runtime}/nano-modal`, 0o755);
      equal(localSocketFor(new URL("http://127.0.0.1:50125")), undefined);
      announceLocalSocket(50126, server.path);
      ok(!(await Deno.lstat(`${runtime}/nano-modal/50126.sock`).then(() => true, () => false)));
    } finally {
      server.close();
    }
  });
});

Deno.test("a later server on the same port keeps its announcement when an earlier one withdraws", async () => {
  await withRuntimeDir(async (runtime) => {
    const dir = await Deno.makeTempDir({ dir: runtime });
    const first = socket(await Deno.makeTempDir({ dir }));
    const second = socket(await Deno.makeTempDir({ dir }));
    try {
      const withdrawFirst = announceLocalSocket(50127, first.path);
      announceLocalSocket(50127, second.path);
      withdrawFirst();
      equal(Deno.readLinkSync(`${runtime}/nano-modal/50127.sock`), second.path);
    } finally {
      first.close();
      second.close();
    }
  });
});

Deno.test("a client of a loopback URL reaches the announced socket, not the TCP port", async () => {
  await withRuntimeDir(async (runtime) => {
    const { createRpcTransport } = await import("./transport.ts");
    const { create, createClient, toBinary } = await import("./deps.ts");
    const { ControlService, PingResponseSchema } = await import("./messages.ts");
    // A server only on a Unix socket.
    const path = `${await Deno.makeTempDir({ dir: runtime })}/http.sock`;
    const server = Deno.serve({ path, onListen() {} }, () =>
      new Response(
        toBinary(PingResponseSchema, create(PingResponseSchema, { version: "via the socket" })),
        { headers: { "content-type": "application/proto" } },
      ));
    // A port nothing listens on: a TCP attempt would be refused.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const withdraw = announceLocalSocket(port, path);
    const { transport, close } = createRpcTransport({ baseUrl: `http://127.0.0.1:${port}` });
    try {
      const answer = await createClient(ControlService, transport).ping({});
      equal(answer.version, "via the socket");
    } finally {
      close();
      withdraw();
      await server.shutdown();
    }
  });
});

Deno.test("announcing a socket removes the links that killed servers left behind", async () => {
  await withRuntimeDir(async (runtime) => {
    const dir = await Deno.makeTempDir({ dir: runtime });
    const live = socket(dir);
    try {
      announceLocalSocket(50130, `${dir}/gone.sock`); // its server was killed: nothing there
      announceLocalSocket(50131, live.path);
      const names = [...Deno.readDirSync(`${runtime}/nano-modal`)].map((e) => e.name).sort();
      equal(names.join(","), "50131.sock");
    } finally {
      live.close();
    }
  });
});

Deno.test("a socket whose server's process is gone (killed, so never withdrawn) is not used", async () => {
  await withRuntimeDir(async (runtime) => {
    // A server's socket directory is named with its pid; pid 2^22+1 is above Linux's pid_max.
    const dead = `${runtime}/nano-modal-server-4194305-x`;
    const alive = `${runtime}/nano-modal-server-${Deno.pid}-y`;
    Deno.mkdirSync(dead);
    Deno.mkdirSync(alive);
    const a = socket(dead), b = socket(alive);
    try {
      announceLocalSocket(50160, a.path);
      announceLocalSocket(50161, b.path);
      equal(localSocketFor(new URL("http://127.0.0.1:50160")), undefined, "its server is gone");
      ok(localSocketFor(new URL("http://127.0.0.1:50161")), "its server runs");
      announceLocalSocket(50162, b.path); // the next announcement tidies the dead one's link away
      equal(await Deno.lstat(`${runtime}/nano-modal/50160.sock`).then(() => 1, () => 0), 0);
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("a server removes the socket directories that killed servers left, and no others", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nm_stale_dirs_" });
  try {
    // A process that has ended: its pid names a stale directory.
    const gone = new Deno.Command(Deno.execPath(), { args: ["eval", ""] }).spawn();
    await gone.status;
    const make = async (name: string) => {
      await Deno.mkdir(`${tmp}/${name}`);
      await Deno.writeTextFile(`${tmp}/${name}/http.sock`, "");
      return name;
    };
    const stale = await make(`nano-modal-server-${gone.pid}-abc`);
    const live = await make(`nano-modal-server-${Deno.pid}-def`); // a live server's (this process)
    const own = await make(`nano-modal-server-${gone.pid}-own`); // the caller's own
    const other = await make(`something-else-${gone.pid}-x`);
    strictEqual(await removeStaleServerDirs(`${tmp}/${own}`), 1);
    const left: string[] = [];
    for await (const e of Deno.readDir(tmp)) left.push(e.name);
    deepStrictEqual(left.sort(), [live, own, other].sort());
    strictEqual(left.includes(stale), false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

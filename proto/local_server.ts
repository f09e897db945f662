/**
 * Finding this user's local control plane without being told: a long-running
 * `nano-modal serve` announces itself as `server.json` in the private
 * directory of announced sockets (`local_socket.ts`); a client given no
 * server (`--server`, `NANO_MODAL_SERVER`) uses the server announced there if
 * its socket answers. Only a directory this user owns and no one else may
 * open is read, so nobody else can point a client (and its token) elsewhere.
 * `NANO_MODAL_LOCAL_SERVER=0` makes clients ignore it.
 * @module
 */
import { localSocketDir, madePrivateDir, ownedAndPrivate } from "./local_socket.ts";
import { writeAtomically } from "./write_atomically.ts";

const FILE = "server.json";

/** What a server announces. */
interface Announcement {
  url: string;
  port: number;
  pid: number;
}

/**
 * Announces the server listening on `port` (its URL for clients on this
 * machine, `url`) as this user's local server. Returns a function that
 * withdraws it, unless a later server has announced itself since. Quietly
 * does nothing where the directory cannot be made private.
 */
export async function announceLocalServer(url: string, port: number): Promise<() => void> {
  const dir = madePrivateDir();
  if (!dir) return () => {};
  const mine: Announcement = { url, port, pid: Deno.pid };
  const path = `${dir}/${FILE}`;
  try {
    await writeAtomically(path, JSON.stringify(mine));
  } catch {
    return () => {};
  }
  return () => {
    try {
      const now = JSON.parse(Deno.readTextFileSync(path)) as Announcement;
      if (now.pid === mine.pid && now.port === mine.port) Deno.removeSync(path);
    } catch { /* gone already */ }
  };
}

/** Whether the environment may be read without a permission prompt. */
function mayRead(variable: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The URL of this user's local server, if one announced itself and its socket
 * accepts a connection now; otherwise undefined (never throws, never prompts
 * for a permission).
 */
export async function discoverLocalServer(): Promise<string | undefined> {
  if (!mayRead("NANO_MODAL_LOCAL_SERVER") || !mayRead("XDG_RUNTIME_DIR")) return undefined;
  if (Deno.env.get("NANO_MODAL_LOCAL_SERVER") === "0") return undefined;
  try {
    if ((await Deno.permissions.query({ name: "sys", kind: "uid" })).state !== "granted") {
      return undefined;
    }
    const dir = localSocketDir();
    if (!dir) return undefined;
    const path = `${dir}/${FILE}`;
    // Connecting to a Unix socket takes both (a script without them is not prompted).
    for (const name of ["read", "write"] as const) {
      if ((await Deno.permissions.query({ name, path: dir })).state !== "granted") return undefined;
    }
    if (!ownedAndPrivate(dir)) return undefined;
    const found = JSON.parse(await Deno.readTextFile(path)) as Partial<Announcement>;
    if (typeof found.url !== "string" || !Number.isInteger(found.port)) return undefined;
    // Its socket answers: a server that died without withdrawing is not used.
    const conn = await Deno.connect({ transport: "unix", path: `${dir}/${found.port}.sock` });
    conn.close();
    const url = new URL(found.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

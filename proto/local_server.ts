/**
 * Finding this user's local control plane without being told: a long-running
 * `nano-modal serve` that uses the local token file announces itself as
 * `server-<port>.json` in the private directory of announced sockets
 * (`local_socket.ts`); a client given no server (`--server`,
 * `NANO_MODAL_SERVER`) uses the newest announced server whose socket is
 * still its own and answers. Only a directory this user owns and no one else
 * may open is read, so nobody else can point a client (and its token)
 * elsewhere. `NANO_MODAL_LOCAL_SERVER=0` makes clients ignore it.
 * @module
 */
import { localSocketDir, madePrivateDir, ownedAndPrivate } from "./local_socket.ts";
import { writeAtomically } from "./write_atomically.ts";

const PREFIX = "server-";
const SUFFIX = ".json";

/** What a server announces. */
interface Announcement {
  url: string;
  port: number;
  pid: number;
  /**
   * The socket `<port>.sock` linked to when it announced itself: a server
   * that took the port since (after this one was killed) links elsewhere.
   */
  socket: string;
  /** Workers of its own (`serve --with-workers N`). */
  workers: number;
  /** The data dir of its embedded store; absent on Redis. */
  dataDir?: string;
}

/** A local server found by {@linkcode discoverLocalServer}. */
export interface LocalServer {
  /** Its URL for clients on this machine. */
  url: string;
  /** How many workers it runs itself (`serve --with-workers N`); others may join it. */
  workers: number;
  /** The data dir of its embedded store (its real path); absent on Redis. */
  dataDir?: string;
}

/**
 * Announces the server listening on `port` (its URL for clients on this
 * machine, `url`; its socket announced already, see `announceLocalSocket`) as
 * one of this user's local servers. Returns a function that withdraws it.
 * Quietly does nothing where the directory cannot be made private.
 */
export async function announceLocalServer(
  server: { url: string; port: number; workers: number; dataDir?: string },
): Promise<() => void> {
  const dir = madePrivateDir();
  if (!dir) return () => {};
  removeStale(dir);
  const path = `${dir}/${PREFIX}${server.port}${SUFFIX}`;
  try {
    const socket = Deno.readLinkSync(`${dir}/${server.port}.sock`);
    const dataDir = server.dataDir && realPathOf(server.dataDir);
    const mine: Announcement = { ...server, dataDir, pid: Deno.pid, socket };
    await writeAtomically(path, JSON.stringify(mine));
  } catch {
    return () => {};
  }
  return () => {
    try {
      // Only ours: a later server on the same port may have replaced it.
      if ((JSON.parse(Deno.readTextFileSync(path)) as Announcement).pid === Deno.pid) {
        Deno.removeSync(path);
      }
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

/** Whether `announced` is still the server behind its port's socket, and that answers. */
async function live(dir: string, announced: Partial<Announcement> | null): Promise<boolean> {
  try {
    if (typeof announced?.url !== "string" || !Number.isInteger(announced.port)) return false;
    const url = new URL(announced.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    const link = `${dir}/${announced.port}.sock`;
    if (await Deno.readLink(link).catch(() => undefined) !== announced.socket) return false;
    const conn = await Deno.connect({ transport: "unix", path: link });
    conn.close();
    return true;
  } catch {
    return false; // not a URL, or nothing answers
  }
}

/** Removes announcements of servers whose port's socket is gone or is another server's now. */
function removeStale(dir: string): void {
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || !entry.name.startsWith(PREFIX) || !entry.name.endsWith(SUFFIX)) continue;
      const path = `${dir}/${entry.name}`;
      try {
        const { port, socket } = JSON.parse(Deno.readTextFileSync(path)) as Announcement;
        let now: string | undefined;
        try {
          now = Deno.readLinkSync(`${dir}/${port}.sock`);
        } catch {
          // No link: that server is gone.
        }
        if (now !== socket) Deno.removeSync(path);
      } catch {
        // Unreadable or gone meanwhile: left alone.
      }
    }
  } catch { /* a tidy-up only */ }
}

/**
 * This user's local server, if one announced itself and is still there: the
 * newest of those whose socket is still their own and accepts a connection
 * now (and that `wanted`, when given, accepts). Otherwise undefined (never
 * throws, never prompts for a permission).
 */
export async function discoverLocalServer(
  wanted: (server: LocalServer) => boolean = () => true,
): Promise<LocalServer | undefined> {
  if (!mayRead("NANO_MODAL_LOCAL_SERVER") || !mayRead("XDG_RUNTIME_DIR")) return undefined;
  if (Deno.env.get("NANO_MODAL_LOCAL_SERVER") === "0") return undefined;
  try {
    if ((await Deno.permissions.query({ name: "sys", kind: "uid" })).state !== "granted") {
      return undefined;
    }
    const dir = localSocketDir();
    if (!dir) return undefined;
    // Connecting to a Unix socket takes both (a script without them is not prompted).
    for (const name of ["read", "write"] as const) {
      if ((await Deno.permissions.query({ name, path: dir })).state !== "granted") return undefined;
    }
    if (!ownedAndPrivate(dir)) return undefined;
    const found: { announced: Announcement; at: number }[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !e.name.startsWith(PREFIX) || !e.name.endsWith(SUFFIX)) continue;
      const path = `${dir}/${e.name}`;
      try {
        const [text, info] = await Promise.all([Deno.readTextFile(path), Deno.stat(path)]);
        found.push({ announced: JSON.parse(text), at: info.mtime?.getTime() ?? 0 });
      } catch {
        // Withdrawn meanwhile, or not ours to read.
      }
    }
    for (const { announced } of found.sort((a, b) => b.at - a.at)) {
      if (!(await live(dir, announced))) continue;
      const server: LocalServer = {
        url: new URL(announced.url).origin,
        workers: Number(announced.workers) || 0,
        ...(typeof announced.dataDir === "string" ? { dataDir: announced.dataDir } : {}),
      };
      if (wanted(server)) return server;
    }
  } catch {
    // No directory yet, or not ours: nothing announced.
  }
  return undefined;
}

/** `path` with links resolved where it exists (as announced data dirs are compared). */
export function realPathOf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

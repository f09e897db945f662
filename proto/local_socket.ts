/**
 * A same-machine shortcut to a control plane: a client of the same user that
 * reaches a server on a loopback address connects to its Unix socket instead
 * of its TCP port.
 *
 * The server announces its socket as `<port>.sock` in a directory only its
 * user can open (`$XDG_RUNTIME_DIR/nano-modal`, else `/tmp/nano-modal-<uid>`);
 * a client uses it only when that directory is its own and closed to others,
 * so nobody else can stand in for the server and read the client's token. The
 * token is still checked on every request. What the shortcut skips: a TCP hop,
 * the gate's relay (the gate's header and idle timeouts guard the public port,
 * not a socket only the server's user can reach) and Nagle's algorithm.
 * `NANO_MODAL_LOCAL_SOCKET=0` makes a client use the TCP port anyway.
 * @module
 */

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Set by a test (`_with_runtime_dir.ts`) in place of `XDG_RUNTIME_DIR`: a global of its own
 * test file's isolate, where the environment is the whole test process's (test files run side
 * by side in one process, and another's change would move this one's sockets under it).
 */
export const TEST_RUNTIME_DIR: symbol = Symbol.for("nano-modal.test-runtime-dir");

/** The directory of announced sockets, or `undefined` where users have no uid (Windows). */
export function localSocketDir(): string | undefined {
  const uid = Deno.uid();
  if (uid === null) return undefined;
  const runtime = (globalThis as Record<symbol, string | undefined>)[TEST_RUNTIME_DIR] ??
    Deno.env.get("XDG_RUNTIME_DIR");
  return runtime ? `${runtime}/nano-modal` : `/tmp/nano-modal-${uid}`;
}

/** Whether `dir` is a real directory of this user that no one else may open. */
export function ownedAndPrivate(dir: string): boolean {
  try {
    const info = Deno.lstatSync(dir);
    return info.isDirectory && info.uid === Deno.uid() && ((info.mode ?? 0o777) & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * {@linkcode localSocketDir}, made if need be; undefined where it cannot be made, or is not
 * this user's alone (nothing is announced there then).
 */
export function madePrivateDir(): string | undefined {
  const dir = localSocketDir();
  if (!dir) return undefined;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return undefined;
  }
  return ownedAndPrivate(dir) ? dir : undefined;
}

/**
 * Removes the links of servers that ended without withdrawing them (killed): their sockets are
 * gone, or their processes are.
 */
function removeDangling(dir: string): void {
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isSymlink || !entry.name.endsWith(".sock")) continue;
      const link = `${dir}/${entry.name}`;
      try {
        Deno.statSync(link);
        if (ownerGone(link)) Deno.removeSync(link);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) Deno.removeSync(link);
      }
    }
  } catch { /* a tidy-up only */ }
}

/**
 * Announces `socketPath` as the way to the server on `port`, as a symlink in
 * {@linkcode localSocketDir}. Returns a function that withdraws it. Quietly
 * does nothing when the directory cannot be made private.
 */
export function announceLocalSocket(port: number, socketPath: string): () => void {
  const dir = madePrivateDir();
  if (!dir) return () => {};
  removeDangling(dir);
  const link = `${dir}/${port}.sock`;
  try {
    Deno.removeSync(link);
  } catch { /* none yet */ }
  try {
    Deno.symlinkSync(socketPath, link);
  } catch {
    return () => {};
  }
  return () => {
    try {
      // Only ours: a later server on the same port may have replaced it.
      if (Deno.readLinkSync(link) === socketPath) Deno.removeSync(link);
    } catch { /* gone already */ }
  };
}

/**
 * The announced socket of the server at `url`, when it is on this machine's
 * loopback, over cleartext HTTP, announced by this user in a private directory.
 */
export function localSocketFor(url: URL): string | undefined {
  if (url.protocol !== "http:" || !LOOPBACK.has(url.hostname)) return undefined;
  if (Deno.env.get("NANO_MODAL_LOCAL_SOCKET") === "0") return undefined;
  const dir = localSocketDir();
  if (!dir || !ownedAndPrivate(dir)) return undefined;
  const path = `${dir}/${url.port || 80}.sock`;
  try {
    return Deno.statSync(path).isSocket && !ownerGone(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the server that announced the socket at `link` is known to be gone: killed, it could
 * not withdraw it, and a client would get "connection refused" where the port (taken since by
 * a server announced elsewhere) answers. Its pid is in its socket directory's name
 * (`nano-modal-server-<pid>-…`); where processes cannot be looked up, it is taken as alive.
 */
function ownerGone(link: string): boolean {
  let pid: string | undefined;
  try {
    pid = /\/nano-modal-server-(\d+)-[^/]*\//.exec(Deno.readLinkSync(link))?.[1];
    if (!pid || Deno.permissions.querySync({ name: "read", path: "/proc" }).state !== "granted") {
      return false;
    }
    Deno.statSync("/proc/self");
  } catch {
    return false; // no /proc to look in (or not ours to read)
  }
  return !processRuns(pid);
}

/**
 * Removes the socket directories (`nano-modal-server-<pid>-…`, beside `ownDir` in the temp dir)
 * of this user's servers that are gone: one killed could not remove its own, and each left one
 * behind for good. A directory whose pid runs (even reused), or that is not this user's, stays;
 * so does every one where processes cannot be looked up. Returns how many went.
 */
export async function removeStaleServerDirs(ownDir: string): Promise<number> {
  const tmp = ownDir.slice(0, ownDir.lastIndexOf("/"));
  let removed = 0;
  try {
    Deno.statSync("/proc/self");
    for await (const e of Deno.readDir(tmp)) {
      const pid = /^nano-modal-server-(\d+)-/.exec(e.name)?.[1];
      const path = `${tmp}/${e.name}`;
      if (!e.isDirectory || !pid || path === ownDir) continue;
      if (Deno.lstatSync(path).uid !== Deno.uid() || processRuns(pid)) continue;
      await Deno.remove(path, { recursive: true }).then(() => removed++, () => {});
    }
  } catch { /* a tidy-up only: no /proc, or no temp dir to read */ }
  return removed;
}

/** Whether `/proc` has process `pid` (any error but its absence counts as running). */
function processRuns(pid: string): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound);
  }
}

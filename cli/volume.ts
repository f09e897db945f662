/** `nano-modal volume create|ls|put|get|rm|delete`: volumes from the command line. */
import { basename, dirname, join, resolve } from "node:path";
import { listDir, removeChange, VolumeClient, writeChange } from "../proto/volume_client.ts";
import { normalizeVolumePath } from "../proto/volume_files.ts";
import type { VolumeChange } from "../proto/messages.ts";
import { parse } from "./_args.ts";
import {
  CONNECTION_FLAGS,
  connectState,
  shortDate,
  type StateConnection,
} from "./_state_client.ts";
import { UsageError } from "./errors.ts";
import { Progress } from "./_transfer_progress.ts";

/** Help of `nano-modal volume`. */
export const VOLUME_HELP = `Manage volumes: persistent file trees that functions mount.

Usage:
  nano-modal volume create NAME
  nano-modal volume ls [NAME [PATH]]           list volumes, or a directory of one
  nano-modal volume put NAME LOCAL [REMOTE]    upload a file or directory (default: to /)
  nano-modal volume get NAME REMOTE [LOCAL|-]  download a file or directory (- = stdout)
  nano-modal volume rm NAME PATH [-r]          remove a file (-r: a directory)
  nano-modal volume delete NAME                delete the volume and all its files

Limits: 1 GiB per file, 16 GiB per volume.

Options:
  -r, --recursive      rm: remove a directory and everything in it
  --server URL         the control plane (env NANO_MODAL_SERVER); without one, the data dir
  --data-dir DIR       the data dir to use without a server (env NANO_MODAL_DATA_DIR;
                       default ~/.local/share/nano-modal, as for serve and run)
  --token TOKEN        its token (env NANO_MODAL_TOKEN)
  -h, --help           show this help`;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function volumePath(path: string): string {
  const p = normalizeVolumePath(path);
  if (p === undefined) throw new UsageError(`"${path}" is not a path inside a volume`);
  return p;
}

/** Runs `nano-modal volume ...`; returns the exit code. */
export async function volumeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("volume", args, {
    ...CONNECTION_FLAGS,
    recursive: { type: "boolean", short: "r" },
  });
  const [sub, name, ...rest] = positionals;
  if (values.help || !sub) {
    console.log(VOLUME_HELP);
    return values.help ? 0 : 2;
  }
  const conn = await connectState(values);
  try {
    if (sub === "ls" && !name) return await listVolumes(conn);
    if (!name) {
      throw new UsageError(`volume ${sub} needs a volume NAME (see \`nano-modal volume --help\`)`);
    }
    const vol = new VolumeClient(conn.transport, name);
    switch (sub) {
      case "create":
        await conn.rpc(() => vol.service.createVolume({ name }));
        console.log(`Created volume ${name}`);
        return 0;
      case "delete":
        await conn.rpc(() => vol.service.deleteVolume({ name }));
        console.log(`Deleted volume ${name}`);
        return 0;
      case "ls":
        return await ls(conn, vol, rest[0] ?? "/");
      case "put":
        if (!rest[0]) throw new UsageError("volume put needs NAME LOCAL [REMOTE]");
        return await put(conn, vol, rest[0], rest[1] ?? "/");
      case "get":
        if (!rest[0]) throw new UsageError("volume get needs NAME REMOTE [LOCAL|-]");
        return await get(conn, vol, rest[0], rest[1]);
      case "rm":
        if (!rest[0]) throw new UsageError("volume rm needs NAME PATH");
        return await rm(conn, vol, rest[0], values.recursive === true);
      default:
        throw new UsageError(
          `Unknown volume command "${sub}": use create, ls, put, get, rm or delete (see \`nano-modal volume --help\`)`,
        );
    }
  } finally {
    await conn.close();
  }
}

async function listVolumes(conn: StateConnection): Promise<number> {
  const client = new VolumeClient(conn.transport, "-");
  const { volumes } = await conn.rpc(() => client.service.listVolumes({}));
  if (!volumes.length) {
    console.log("No volumes: create one with `nano-modal volume create NAME`");
    return 0;
  }
  const width = Math.max(4, ...volumes.map((v) => v.name.length));
  console.log(`${"NAME".padEnd(width)}  ${"CREATED".padEnd(16)}  ${"FILES".padStart(8)}  SIZE`);
  for (const v of volumes) {
    console.log(
      `${v.name.padEnd(width)}  ${shortDate(v.createdMs)}  ${String(v.files).padStart(8)}  ${
        size(Number(v.bytes))
      }`,
    );
  }
  return 0;
}

async function ls(conn: StateConnection, vol: VolumeClient, path: string): Promise<number> {
  const p = volumePath(path);
  const tree = (await conn.rpc(() => vol.tree()))!;
  const file = tree.entries.get(p);
  const list = file
    ? listDir({ ...tree, entries: new Map([[p, file]]) }, dirname(`/${p}`).slice(1))
    : listDir(tree, p);
  if (!list) throw new UsageError(`No file or directory "${p}" in volume "${vol.name}"`);
  for (const e of list) {
    console.log(
      e.isFile
        ? `${size(e.size).padStart(10)}  ${shortDate(e.mtimeMs)}  ${e.name}`
        : `${"dir".padStart(10)}  ${"".padEnd(16)}  ${e.name}/`,
    );
  }
  return 0;
}

/** Local files under `root` (or `root` itself) with their paths relative to it. */
async function localFiles(root: string): Promise<{ local: string; rel: string; bytes: number }[]> {
  const stat = await Deno.stat(root).catch(() => {
    throw new UsageError(`Cannot read ${root}: check the path`);
  });
  if (stat.isFile) return [{ local: root, rel: "", bytes: stat.size }];
  const out: { local: string; rel: string; bytes: number }[] = [];
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const local = join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(local, r);
      else if (e.isFile) out.push({ local, rel: r, bytes: (await Deno.stat(local)).size });
    }
  };
  await walk(root, "");
  return out;
}

async function put(
  conn: StateConnection,
  vol: VolumeClient,
  local: string,
  remote: string,
): Promise<number> {
  const files = await localFiles(local);
  const isDir = !(files.length === 1 && files[0].rel === "");
  // "/" or "dir/" means "into that directory, under the local name".
  let base = volumePath(remote);
  if (remote.endsWith("/") || base === "") {
    base = base ? `${base}/${basename(resolve(local))}` : basename(resolve(local));
  }
  const total = files.reduce((n, f) => n + f.bytes, 0);
  const progress = new Progress(`put ${vol.name}/${base}`, total);
  const changes: VolumeChange[] = [];
  for (const f of files) {
    const path = isDir ? `${base}/${f.rel}` : base;
    const entry = await conn.rpc(() => vol.uploadFile(path, f.local, (n) => progress.add(n)));
    changes.push(writeChange(entry));
  }
  await conn.rpc(() => vol.commit(changes));
  progress.done();
  console.log(
    `Uploaded ${files.length} file${files.length === 1 ? "" : "s"} (${
      size(total)
    }) to ${vol.name}:/${base}`,
  );
  return 0;
}

async function get(
  conn: StateConnection,
  vol: VolumeClient,
  remote: string,
  local: string | undefined,
): Promise<number> {
  const p = volumePath(remote);
  const tree = (await conn.rpc(() => vol.tree()))!;
  const file = tree.entries.get(p);
  if (file && local === "-") {
    await conn.rpc(() =>
      vol.getChunks(file.chunks, async (_h, data) => {
        await Deno.stdout.write(data);
      })
    );
    return 0;
  }
  const entries = file
    ? [{ entry: file, rel: "" }]
    : [...tree.entries.values()].filter((e) => !p || e.path.startsWith(`${p}/`)).map((e) => ({
      entry: e,
      rel: p ? e.path.slice(p.length + 1) : e.path,
    }));
  if (!entries.length) throw new UsageError(`No file or directory "${p}" in volume "${vol.name}"`);
  if (local === "-") throw new UsageError(`"${p}" is a directory: give a LOCAL directory, not -`);
  const target = local ?? (basename(`/${p}`) || vol.name);
  const total = entries.reduce((n, e) => n + Number(e.entry.size), 0);
  const progress = new Progress(`get ${vol.name}/${p}`, total);
  for (const { entry, rel } of entries) {
    const dest = rel ? join(target, rel) : target;
    await Deno.mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.${crypto.randomUUID().slice(0, 8)}.part`;
    using out = await Deno.open(tmp, { write: true, create: true, truncate: true });
    await conn.rpc(() =>
      vol.getChunks(entry.chunks, async (_h, data) => {
        for (let at = 0; at < data.length;) at += await out.write(data.subarray(at));
        progress.add(data.length);
      })
    );
    await Deno.rename(tmp, dest);
  }
  progress.done();
  console.error(
    `Downloaded ${entries.length} file${entries.length === 1 ? "" : "s"} (${
      size(total)
    }) to ${target}`,
  );
  return 0;
}

async function rm(
  conn: StateConnection,
  vol: VolumeClient,
  path: string,
  recursive: boolean,
): Promise<number> {
  const p = volumePath(path);
  const tree = (await conn.rpc(() => vol.tree()))!;
  if (!tree.entries.has(p)) {
    if (p && !listDir(tree, p)) {
      throw new UsageError(`No file or directory "${p}" in volume "${vol.name}"`);
    }
    if (!recursive) {
      throw new UsageError(
        `"${p || "/"}" is a directory: pass -r to remove it and everything in it`,
      );
    }
  }
  await conn.rpc(() => vol.commit([removeChange(p)]));
  console.log(`Removed ${vol.name}:/${p}`);
  return 0;
}

/**
 * The client side of secrets and volumes, loaded lazily with the session
 * (never part of a user's bundle): what an app's functions need before it
 * starts (secrets checked or uploaded, volumes created), and volume file
 * access from outside functions.
 */
import { Code, ConnectError, create, createClient, type Transport } from "../proto/deps.ts";
import { SecretService, type VolumeMount, VolumeMountSchema } from "../proto/messages.ts";
import { listDir, removeChange, VolumeClient, writeChange } from "../proto/volume_client.ts";
import { MAX_FILE_BYTES, normalizeVolumePath } from "../proto/volume_files.ts";
import { InvalidError, NotFoundError } from "./errors.ts";
import type { ResolvedOptions } from "./_options.ts";
import { secretSource } from "./secret.ts";
import type { VolumeDirEntry } from "./volume.ts";
import { currentSession } from "./_connect.ts";
import { Session } from "./_session.ts";
import { translateError } from "./_rpc_errors.ts";

/** What a function definition carries about secrets and volumes. */
export interface FunctionState {
  secretNames: string[];
  volumes: VolumeMount[];
}

/**
 * Uploads inline secrets, checks named ones exist (a missing one is a
 * NotFoundError naming it) and creates volumes marked createIfMissing.
 */
export async function prepareState(
  transport: Transport,
  functions: Map<string, ResolvedOptions>,
): Promise<Map<string, FunctionState>> {
  const secrets = createClient(SecretService, transport);
  const out = new Map<string, FunctionState>();
  const named = new Set<string>();
  const volumes = new Map<string, boolean>();
  for (const [fnName, o] of functions) {
    const secretNames: string[] = [];
    for (const secret of o.secrets) {
      const source = secretSource(secret);
      if ("name" in source) {
        named.add(source.name);
        secretNames.push(source.name);
      } else if ("values" in source) {
        const { name } = await secrets.createSecret({ values: source.values, inline: true });
        secretNames.push(name);
      }
    }
    const mounts = Object.entries(o.volumes).map(([path, v]) => {
      volumes.set(v.name, (volumes.get(v.name) ?? false) || v.createIfMissing);
      return create(VolumeMountSchema, { path, volumeName: v.name });
    });
    out.set(fnName, { secretNames, volumes: mounts });
  }
  if (named.size) await secrets.checkSecrets({ names: [...named] });
  for (const [name, create] of volumes) {
    const client = new VolumeClient(transport, name);
    if (create) await client.service.createVolume({ name, existOk: true });
    else await client.tree(1n << 62n); // NotFound names the volume and how to create it
  }
  return out;
}

/** Volume file access from outside functions. */
export interface VolumeHandle {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readDir(path: string): Promise<VolumeDirEntry[]>;
  remove(path: string): Promise<void>;
}

const created = new Set<string>();

function canonical(path: string, volume: string): string {
  const p = normalizeVolumePath(path);
  if (p === undefined) {
    throw new InvalidError(`"${path}" is not a path inside volume "${volume}"`);
  }
  return p;
}

/** A handle on volume `name` through the current session. */
export async function volumeHandle(name: string, createIfMissing: boolean): Promise<VolumeHandle> {
  const found = await currentSession(`Volume("${name}")`);
  if (!(found instanceof Session)) {
    throw new InvalidError(
      `Volume("${name}"): inside a function, read and write the files under its mount path, then await vol.commit() (or vol.reload() to take in others' commits)`,
    );
  }
  const session = found;
  const client = new VolumeClient(session.transport, name);
  const rpc = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.NotFound) {
        throw new NotFoundError(err.rawMessage, { cause: err });
      }
      throw translateError(err, session.serverUrl);
    }
  };
  if (createIfMissing && !created.has(name)) {
    await rpc(() => client.service.createVolume({ name, existOk: true }));
    created.add(name);
  }
  const tree = () => rpc(() => client.tree()).then((t) => t!);
  return {
    async readFile(path) {
      const p = canonical(path, name);
      const entry = (await tree()).entries.get(p);
      if (!entry) throw new NotFoundError(`No file "${p}" in volume "${name}"`);
      return rpc(() => client.readEntry(entry));
    },
    async writeFile(path, data) {
      const p = canonical(path, name);
      if (!p) throw new InvalidError(`Cannot write to the root of volume "${name}": name a file`);
      if (data.length > MAX_FILE_BYTES) {
        throw new InvalidError(
          `${data.length} bytes is over the volume file limit of ${MAX_FILE_BYTES} bytes`,
        );
      }
      await rpc(async () => {
        const entry = await client.uploadBytes(p, data);
        await client.commit([writeChange(entry)]);
      });
    },
    async readDir(path) {
      const p = canonical(path, name);
      const t = await tree();
      const file = t.entries.get(p);
      if (file) {
        return listDir(
          { ...t, entries: new Map([[p, file]]) },
          p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "",
        )!;
      }
      const list = listDir(t, p);
      if (!list) throw new NotFoundError(`No directory "${p}" in volume "${name}"`);
      return list;
    },
    async remove(path) {
      const p = canonical(path, name);
      const t = await tree();
      if (p && !t.entries.has(p) && !listDir(t, p)) {
        throw new NotFoundError(`No file or directory "${p}" in volume "${name}"`);
      }
      await rpc(() => client.commit([removeChange(p)]));
    },
  };
}

/**
 * Secrets and volumes around any runner: before a sandbox starts, its
 * function's secret variables are fetched (into its environment only) and
 * its volumes are copied into directories it mounts; `vol.commit()` and
 * `vol.reload()` from inside reach those copies; when the sandbox stops,
 * its volume changes are committed.
 */
import { createClient, type Transport } from "../proto/deps.ts";
import { WorkerService } from "../proto/messages.ts";
import { VolumeClient } from "../proto/volume_client.ts";
import type { FunctionSpec, PrepareOptions, Runner, Sandbox, SandboxSpec } from "./runner.ts";
import { ChunkCache, VolumeCopy } from "./_volume_copy.ts";
import { hideValues } from "./_redact.ts";

/** What the layer needs from its worker. */
export interface StateRunnerOptions {
  transport: Transport;
  cacheDir: string;
}

/** Wraps `runner` so its sandboxes get secrets and volumes. */
export function withState(runner: Runner, options: StateRunnerOptions): Runner {
  const worker = createClient(WorkerService, options.transport);
  const cache = new ChunkCache(`${options.cacheDir}/chunks`);
  return {
    name: runner.name,
    prepare: (def: FunctionSpec, prepare: PrepareOptions) => runner.prepare(def, prepare),
    cleanup: async () => {
      await Deno.remove(`${options.cacheDir}/volumes`, { recursive: true }).catch(() => {});
      await runner.cleanup();
    },
    async start(spec: SandboxSpec): Promise<Sandbox> {
      const secretNames = spec.def.secretNames ?? [];
      const volumes = spec.def.volumes ?? [];
      if (!secretNames.length && !volumes.length) return runner.start(spec);
      if (volumes.length) await mountable(runner, spec.def.name, volumes.map((v) => v.path));
      let env = spec.env;
      if (secretNames.length) {
        const res = await worker.getSecretEnv({ appId: spec.appId, functionName: spec.def.name });
        hideValues(res.env);
        env = { ...spec.env, ...res.env };
      }
      const root = `${options.cacheDir}/volumes/${spec.sandboxId}`;
      const copies = volumes.map((m, i) =>
        new VolumeCopy(new VolumeClient(options.transport, m.volumeName), `${root}/${i}`, cache)
      );
      try {
        await Promise.all(copies.map((c) => c.load()));
        const mounts = volumes.map((m, i) => ({
          source: copies[i].dir,
          target: m.path,
          readOnly: false,
        }));
        const sandbox = await runner.start({ ...spec, env, mounts });
        return withCopies(sandbox, copies, root, spec);
      } catch (err) {
        await Deno.remove(root, { recursive: true }).catch(() => {});
        throw err;
      }
    },
  };
}

/** The sandbox, with volume operations, and a commit of every copy when it stops. */
function withCopies(
  sandbox: Sandbox,
  copies: VolumeCopy[],
  root: string,
  spec: SandboxSpec,
): Sandbox {
  let stopping: Promise<void> | undefined;
  const byName = new Map(copies.map((c) => [c.name, c]));
  return {
    id: sandbox.id,
    exited: sandbox.exited,
    kill() {
      stopping ??= (async () => {
        for (const copy of copies) {
          await copy.commit().catch((err) =>
            spec.onOutput(
              2,
              `nano-modal: committing volume "${copy.name}" on stop failed: ${
                (err as Error).message
              }\n`,
            )
          );
        }
        await sandbox.kill();
        await Deno.remove(root, { recursive: true }).catch(() => {});
      })();
      return stopping;
    },
    volumeOp(op, name) {
      const copy = byName.get(name);
      if (!copy) {
        return Promise.reject(new Error(`Volume "${name}" is not mounted in ${spec.def.name}`));
      }
      return op === "commit" ? copy.commit() : copy.reload();
    },
  };
}

/** A runner that may run without a mount namespace says whether it has one. */
interface MaybeIsolated {
  isolation?(): Promise<{ bubblewrap: boolean }>;
}

/** Fails in one line when the runner cannot give volumes their paths (deno without bubblewrap). */
async function mountable(runner: Runner, fn: string, paths: string[]): Promise<void> {
  const isolation = await (runner as Runner & MaybeIsolated).isolation?.();
  if (isolation && !isolation.bubblewrap) {
    throw new Error(
      `The deno runner cannot mount volumes without bubblewrap (${fn} mounts ${
        paths.join(", ")
      }): install bubblewrap on the worker, or run it with --runner docker`,
    );
  }
}

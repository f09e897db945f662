/**
 * Secrets and volumes, composed for the server: the services over the
 * store's `secrets` and `volumes` parts, and the cipher that seals secret
 * values before they reach the store.
 * @module
 */
import { createRouterTransport, type ServiceImpl, type Transport } from "../proto/deps.ts";
import { SecretService, VolumeService } from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";
import { SecretCipher } from "./secret_cipher.ts";
import {
  createSecretEnvHandler,
  createSecretService,
  type SecretServiceDeps,
} from "./secret_service.ts";
import { createVolumeService } from "./volume_service.ts";

/** How the server seals secrets and limits volumes. */
export interface StateOptions {
  /**
   * Seals secret values. @default the key in `NANO_MODAL_SECRET_KEY`, else
   * the key file in {@linkcode defaultDataDir}, loaded on first use
   */
  cipher?: SecretCipher;
  /** Where the generated key file lives. @default {@linkcode defaultDataDir} */
  dataDir?: string;
  /** Largest file a volume holds. @default 1 GiB */
  maxFileBytes?: number;
  /** Largest total size of a volume. @default 16 GiB */
  maxVolumeBytes?: number;
}

/** The services a server mounts for secrets and volumes. */
export interface StateServices {
  /** `SecretService`: create, list, delete, check. */
  secretService: ServiceImpl<typeof SecretService>;
  /** `VolumeService`: trees, chunks, commits. */
  volumeService: ServiceImpl<typeof VolumeService>;
  /** The worker RPC `GetSecretEnv`. */
  getSecretEnv: (
    req: { appId: string; functionName: string },
  ) => Promise<{ env: Record<string, string> }>;
}

/** Builds the services over `store`'s secrets and volumes. */
export function stateServices(store: Store, state: StateOptions = {}): StateServices {
  let cipher: Promise<SecretCipher> | undefined = state.cipher && Promise.resolve(state.cipher);
  const deps: SecretServiceDeps = {
    store: store.secrets,
    cipher: () => {
      cipher ??= SecretCipher.configured(state.dataDir ?? defaultDataDir());
      cipher.catch(() => cipher = undefined);
      return cipher;
    },
    functionDef: async (appId, name) => {
      const id = (await store.apps.getApp(appId))?.functionIds[name];
      return id ? (await store.apps.getFunction(id))?.def : undefined;
    },
  };
  return {
    secretService: createSecretService(deps),
    volumeService: createVolumeService({
      store: store.volumes,
      maxFileBytes: state.maxFileBytes,
      maxVolumeBytes: state.maxVolumeBytes,
    }),
    getSecretEnv: createSecretEnvHandler(deps),
  };
}

/**
 * The secrets and volumes services over `store`, in this process (no
 * server): what the CLI's `secret` and `volume` commands use on a data dir
 * when no server is configured. Hidden from the docs (`@ignore`): it returns
 * Connect's `Transport`, a wire-layer type `deno doc --lint` cannot check.
 *
 * @ignore
 * @example
 * ```ts ignore
 * const transport = localStateTransport(await openEmbeddedStore({ dataDir }), { dataDir });
 * ```
 */
export function localStateTransport(store: Store, state: StateOptions = {}): Transport {
  const services = stateServices(store, state);
  return createRouterTransport(({ service }) => {
    service(SecretService, services.secretService);
    service(VolumeService, services.volumeService);
  });
}

/**
 * The default data directory: `NANO_MODAL_DATA_DIR`, else under the XDG data home.
 *
 * @example
 * ```ts
 * import { defaultDataDir } from "./state_services.ts";
 * console.log(defaultDataDir().length > 0); // true
 * ```
 */
export function defaultDataDir(): string {
  const env = Deno.env.get("NANO_MODAL_DATA_DIR");
  if (env) return env;
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg) return `${xdg}/nano-modal`;
  return `${Deno.env.get("HOME") ?? "/tmp"}/.local/share/nano-modal`;
}

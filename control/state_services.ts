/**
 * Secrets and volumes, composed for the server: their stores (memory or
 * Redis), the cipher that seals secret values, and the services over them.
 * @module
 */
import type { Redis } from "./_deps.ts";
import type { ServiceImpl } from "../proto/mod.ts";
import type { SecretService, VolumeService } from "../proto/messages.ts";
import type { Backend } from "./backend.ts";
import { SecretCipher } from "./secret_cipher.ts";
import {
  createSecretEnvHandler,
  createSecretService,
  type SecretServiceDeps,
} from "./secret_service.ts";
import { createVolumeService } from "./volume_service.ts";
import type { SecretStore } from "./store/secret_store.ts";
import type { VolumeStore } from "./store/volume_store.ts";
import { MemorySecretStore } from "./store/memory_secret_store.ts";
import { MemoryVolumeStore } from "./store/memory_volume_store.ts";
import { RedisSecretStore } from "./store/redis_secret_store.ts";
import { RedisVolumeStore } from "./store/redis_volume_store.ts";
import { openConnection } from "./_redis_connection.ts";

/** Where secrets and volumes live, and their limits. */
export interface StateOptions {
  secrets: SecretStore;
  volumes: VolumeStore;
  cipher: SecretCipher;
  /** Volume limits (tests lower them). */
  maxFileBytes?: number;
  maxVolumeBytes?: number;
  close?: () => Promise<void>;
}

/** The services a server mounts for secrets and volumes. */
export interface StateServices {
  secretService: ServiceImpl<typeof SecretService>;
  volumeService: ServiceImpl<typeof VolumeService>;
  /** The worker RPC `GetSecretEnv`. */
  getSecretEnv: (
    req: { appId: string; functionName: string },
  ) => Promise<{ env: Record<string, string> }>;
}

/** Builds the services over `state`, reading function definitions from `backend`. */
export function stateServices(backend: Backend, state: StateOptions): StateServices {
  const deps: SecretServiceDeps = {
    store: state.secrets,
    cipher: state.cipher,
    functionDef: async (appId, name) => {
      const id = (await backend.getApp(appId))?.functionIds[name];
      return id ? (await backend.getFunction(id))?.def : undefined;
    },
  };
  return {
    secretService: createSecretService(deps),
    volumeService: createVolumeService({
      store: state.volumes,
      maxFileBytes: state.maxFileBytes,
      maxVolumeBytes: state.maxVolumeBytes,
    }),
    getSecretEnv: createSecretEnvHandler(deps),
  };
}

/** Options for {@linkcode openState}. */
export interface OpenStateOptions {
  /** Keep secrets and volumes in this Redis; in memory without. */
  redisUrl?: string;
  /** @default "nm:" */
  keyPrefix?: string;
  /** Where the generated secret key lives (unless NANO_MODAL_SECRET_KEY is set). */
  dataDir: string;
}

/**
 * Opens the stores for secrets and volumes.
 *
 * @example
 * ```ts ignore
 * const state = await openState({ dataDir: "/tmp/nm" });
 * ```
 */
export async function openState(options: OpenStateOptions): Promise<StateOptions> {
  const cipher = await SecretCipher.configured(options.dataDir);
  if (!options.redisUrl) {
    return { secrets: new MemorySecretStore(), volumes: new MemoryVolumeStore(), cipher };
  }
  const redis: Redis = openConnection(options.redisUrl);
  const prefix = options.keyPrefix ?? "nm:";
  return {
    secrets: new RedisSecretStore(redis, prefix),
    volumes: new RedisVolumeStore(redis, prefix),
    cipher,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** The default data directory: `NANO_MODAL_DATA_DIR`, else under the XDG data home. */
export function defaultDataDir(): string {
  const env = Deno.env.get("NANO_MODAL_DATA_DIR");
  if (env) return env;
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg) return `${xdg}/nano-modal`;
  return `${Deno.env.get("HOME") ?? "/tmp"}/.local/share/nano-modal`;
}

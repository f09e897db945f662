/**
 * The secrets RPCs: clients create, list and delete secrets (values flow in,
 * never out); workers fetch the merged environment of a function's secrets.
 * Values are sealed before they reach the store and appear in no message
 * but `GetSecretEnvResponse`, and in no error.
 * @module
 */
import { Code, ConnectError, fromBinary, type ServiceImpl } from "../proto/deps.ts";
import { FunctionDefSchema, type SecretService } from "../proto/messages.ts";
import { validName } from "../proto/volume_files.ts";
import type { SecretCipher } from "./secret_cipher.ts";
import type { SecretStore } from "./store/secret_store.ts";

/** What the secrets service needs. */
export interface SecretServiceDeps {
  store: SecretStore;
  /** The cipher, loaded on first use. */
  cipher: () => Promise<SecretCipher>;
  /** The encoded `FunctionDef` of an app's function, if it exists. */
  functionDef(appId: string, functionName: string): Promise<Uint8Array | undefined>;
  now?: () => number;
}

/** Names of secrets the server made for `Secret.fromDict` / `fromDotenv`: hidden from listings. */
const INLINE_PREFIX = "@inline-";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SECRET_BYTES = 64 * 1024;

function invalid(message: string): never {
  throw new ConnectError(message, Code.InvalidArgument);
}

/** A secret's name as the user wrote it, or an inline one. */
function checkSecretName(name: string): void {
  if (name.startsWith(INLINE_PREFIX) && /^@inline-[a-z0-9]{24}$/.test(name)) return;
  if (!validName(name)) {
    invalid(
      `Secret name ${
        JSON.stringify(name.slice(0, 80))
      } is not valid: use letters, digits, ".", "_" and "-" (up to 64 characters)`,
    );
  }
}

/** Checks variables without ever quoting a value. */
function checkValues(values: Record<string, string>): void {
  const keys = Object.keys(values);
  if (!keys.length) invalid("A secret needs at least one variable: KEY=VALUE");
  let bytes = 0;
  for (const key of keys) {
    if (!ENV_NAME.test(key)) {
      invalid(
        `${
          JSON.stringify(key.slice(0, 80))
        } is not a valid environment variable name: use letters, digits and "_", not starting with a digit`,
      );
    }
    if (values[key].includes("\0")) invalid(`The value of ${key} contains a NUL byte`);
    bytes += key.length + values[key].length;
  }
  if (bytes > MAX_SECRET_BYTES) {
    invalid(`A secret holds at most ${MAX_SECRET_BYTES / 1024} KiB of variables`);
  }
}

/** A missing secret: the error names it and says how to create it. */
export function missingSecret(name: string): ConnectError {
  return new ConnectError(
    `Secret "${name}" not found: create it with \`nano-modal secret create ${name} KEY=VALUE\``,
    Code.NotFound,
  );
}

/** Implements `SecretService`. */
export function createSecretService(deps: SecretServiceDeps): ServiceImpl<typeof SecretService> {
  const now = deps.now ?? Date.now;
  return {
    async createSecret(req) {
      checkValues(req.values);
      const cipher = await deps.cipher();
      let name = req.name;
      // Inline secrets are named by their content (keyed), so each run reuses its record.
      if (req.inline) name = `${INLINE_PREFIX}${await cipher.fingerprint(req.values)}`;
      else checkSecretName(name);
      const ms = now();
      const sealed = await cipher.seal(name, req.values);
      const keys = Object.keys(req.values).sort();
      const stored = await deps.store.putSecret(
        { name, keys, sealed, createdMs: ms, updatedMs: ms },
        req.force || req.inline,
      );
      if (!stored) {
        throw new ConnectError(
          `Secret "${name}" already exists: pass --force to replace it`,
          Code.AlreadyExists,
        );
      }
      return { name };
    },
    async listSecrets() {
      const all = await deps.store.listSecrets();
      return { secrets: all.filter((s) => !s.name.startsWith(INLINE_PREFIX)) };
    },
    async deleteSecret(req) {
      checkSecretName(req.name);
      if (!await deps.store.deleteSecret(req.name)) throw missingSecret(req.name);
      return {};
    },
    async checkSecrets(req) {
      for (const name of req.names) {
        checkSecretName(name);
        if (!await deps.store.getSecret(name)) throw missingSecret(name);
      }
      return {};
    },
  };
}

/** The worker's `GetSecretEnv`: the secrets of a function merged in order (later win). */
export function createSecretEnvHandler(
  deps: SecretServiceDeps,
): (req: { appId: string; functionName: string }) => Promise<{ env: Record<string, string> }> {
  return async (req) => {
    const data = await deps.functionDef(req.appId, req.functionName);
    if (!data) {
      throw new ConnectError(`No function ${req.functionName} in app ${req.appId}`, Code.NotFound);
    }
    const def = fromBinary(FunctionDefSchema, data);
    const env: Record<string, string> = {};
    for (const name of def.secretNames) {
      const record = await deps.store.getSecret(name);
      if (!record) throw missingSecret(name);
      Object.assign(env, await (await deps.cipher()).open(name, record.sealed));
    }
    return { env };
  };
}

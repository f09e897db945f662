/**
 * Sealing secret values at rest: AES-256-GCM (WebCrypto) with a fresh nonce
 * per value and the secret's name as associated data, so a sealed value moved
 * to another name does not open. The key comes from `NANO_MODAL_SECRET_KEY`
 * (64 hex digits or base64 of 32 bytes) or from a key file generated once
 * (mode 0600) in the data directory.
 * @module
 */
import { toHex } from "../proto/content_hash.ts";

const NONCE_BYTES = 12;

/** Thrown when the configured key is unusable or a sealed value does not open. */
export class SecretKeyError extends Error {
  /** The error's name. */
  override name = "SecretKeyError";
}

/** Seals and opens secret values with one key. */
export class SecretCipher {
  readonly #key: CryptoKey;
  readonly #names: CryptoKey;

  private constructor(key: CryptoKey, names: CryptoKey) {
    this.#key = key;
    this.#names = names;
  }

  /** A cipher over 32 raw key bytes. */
  static async fromBytes(raw: Uint8Array): Promise<SecretCipher> {
    if (raw.length !== 32) throw new SecretKeyError("A secret key must be 32 bytes");
    const key = await crypto.subtle.importKey(
      "raw",
      raw as Uint8Array<ArrayBuffer>,
      "AES-GCM",
      false,
      ["encrypt", "decrypt"],
    );
    // A second key, derived from the first, for naming values: never the AES key itself.
    const hmac = { name: "HMAC", hash: "SHA-256" };
    const base = await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, hmac, false, [
      "sign",
    ]);
    const derived = await crypto.subtle.sign(
      "HMAC",
      base,
      new TextEncoder().encode("nano-modal secret names"),
    );
    const names = await crypto.subtle.importKey("raw", derived, hmac, false, ["sign"]);
    return new SecretCipher(key, names);
  }

  /**
   * The key from `NANO_MODAL_SECRET_KEY`, else from `<dataDir>/secret.key`,
   * created (0600) if missing.
   *
   * @example
   * ```ts ignore
   * const cipher = await SecretCipher.configured("/var/lib/nano-modal");
   * ```
   */
  static async configured(dataDir: string): Promise<SecretCipher> {
    const env = Deno.env.get("NANO_MODAL_SECRET_KEY");
    if (env) return SecretCipher.fromBytes(parseKey(env));
    const file = `${dataDir}/secret.key`;
    try {
      return SecretCipher.fromBytes(parseKey((await Deno.readTextFile(file)).trim()));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        if (err instanceof SecretKeyError) {
          throw new SecretKeyError(`The secret key file ${file} is damaged: ${err.message}`);
        }
        throw err;
      }
    }
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const hex = toHex(raw);
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, `${hex}\n`, { mode: 0o600 });
    try {
      // Another process may have created it meanwhile: then theirs wins.
      await Deno.link(tmp, file);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
    return SecretCipher.fromBytes(parseKey((await Deno.readTextFile(file)).trim()));
  }

  /**
   * A name for a set of values that only this key can compute (HMAC), so
   * the same `Secret.fromDict` in every run is stored once, and the name
   * tells nothing about the values.
   */
  async fingerprint(values: Record<string, string>): Promise<string> {
    const canonical = JSON.stringify(Object.entries(values).sort(([a], [b]) => a < b ? -1 : 1));
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", this.#names, new TextEncoder().encode(canonical)),
    );
    return toHex(mac.subarray(0, 12));
  }

  /** Seals `values` for the secret `name`. */
  async seal(name: string, values: Record<string, string>): Promise<Uint8Array> {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const plain = new TextEncoder().encode(JSON.stringify(values));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(name) },
        this.#key,
        plain,
      ),
    );
    const out = new Uint8Array(NONCE_BYTES + sealed.length);
    out.set(nonce);
    out.set(sealed, NONCE_BYTES);
    return out;
  }

  /** Opens what {@linkcode SecretCipher.seal} sealed for `name`. */
  async open(name: string, sealed: Uint8Array): Promise<Record<string, string>> {
    try {
      const plain = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: sealed.subarray(0, NONCE_BYTES) as Uint8Array<ArrayBuffer>,
          additionalData: new TextEncoder().encode(name),
        },
        this.#key,
        sealed.subarray(NONCE_BYTES) as Uint8Array<ArrayBuffer>,
      );
      return JSON.parse(new TextDecoder().decode(plain));
    } catch {
      throw new SecretKeyError(
        `Cannot decrypt secret "${name}": it was stored under another key (check NANO_MODAL_SECRET_KEY or the data directory's secret.key)`,
      );
    }
  }
}

function parseKey(text: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    return new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
  }
  try {
    const raw = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    if (raw.length === 32) return raw;
  } catch {
    // Not base64 either.
  }
  throw new SecretKeyError(
    "NANO_MODAL_SECRET_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)",
  );
}

/**
 * Secrets: environment variables given to the functions that list them, and
 * to no other. Values are stored encrypted by the control plane and never
 * travel in bundles or function definitions.
 * @module
 */
import { InvalidError } from "./errors.ts";
import { runtime } from "./_runtime.ts";
import { parseDotenv } from "../proto/dotenv.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a secret's variables come from. */
type Source = { name: string } | { values: Record<string, string> } | { unread: string };

const sources = new WeakMap<Secret, Source>();

/**
 * A secret, listed in a function's `secrets` option. Later secrets in the
 * list override earlier ones.
 *
 * @example
 * ```ts
 * import { Secret } from "./secret.ts";
 * const secrets = [Secret.fromName("api-keys"), Secret.fromDict({ REGION: "eu" })];
 * console.log(secrets.length); // 2
 * ```
 */
export class Secret {
  private constructor(source: Source) {
    sources.set(this, source);
  }

  /**
   * A secret stored on the server (`nano-modal secret create NAME K=V`). A
   * missing one fails the run before any call, naming it.
   * @param name the secret's name
   */
  static fromName(name: string): Secret {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new InvalidError(
        `Secret name ${
          JSON.stringify(name)
        } is not valid: use letters, digits, ".", "_" and "-" (up to 64 characters)`,
      );
    }
    return new Secret({ name });
  }

  /**
   * A secret made of these variables; sent encrypted to the server when the
   * app starts.
   * @param values variable name -> value
   */
  static fromDict(values: Record<string, string>): Secret {
    if (typeof values !== "object" || values === null) {
      throw new InvalidError("Secret.fromDict() needs an object of variable names to strings");
    }
    const copy: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
      checkKey(key, "Secret.fromDict()");
      if (typeof value !== "string") {
        throw new InvalidError(`Secret.fromDict(): the value of ${key} must be a string`);
      }
      copy[key] = value;
    }
    return new Secret({ values: copy });
  }

  /**
   * A secret read from a dotenv file (`KEY=value` lines, `#` comments,
   * optional quotes and `export`) when the app starts, on the machine that
   * starts it.
   * @param path the file @default ".env"
   */
  static fromDotenv(path = ".env"): Secret {
    // Inside a container the file is not there, and not needed: the worker injects the values.
    if (runtime().mode === "container") return new Secret({ unread: path });
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (err) {
      throw new InvalidError(
        `Secret.fromDotenv() cannot read ${path} (${
          (err as Error).name
        }): create it or pass its path`,
      );
    }
    try {
      return new Secret({ values: parseDotenv(text, path) });
    } catch (err) {
      throw new InvalidError(`Secret.fromDotenv(): ${(err as Error).message}`);
    }
  }
}

function checkKey(key: string, where: string): void {
  if (!ENV_NAME.test(key)) {
    throw new InvalidError(
      `${where}: ${
        JSON.stringify(key)
      } is not a valid environment variable name (letters, digits and "_", not starting with a digit)`,
    );
  }
}

/** Where a secret's variables come from (for the session, never for users). */
export function secretSource(secret: Secret): Source {
  return sources.get(secret)!;
}

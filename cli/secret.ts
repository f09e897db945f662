/** `nano-modal secret create|list|delete`: manage secrets; values go in and never come out. */
import { createClient } from "../proto/deps.ts";
import { SecretService } from "../proto/messages.ts";
import { parseDotenv } from "../proto/dotenv.ts";
import { parse } from "./_args.ts";
import { CONNECTION_FLAGS, connectState, shortDate } from "./_state_client.ts";
import { UsageError } from "./errors.ts";

/** Help of `nano-modal secret`. */
export const SECRET_HELP = `Manage secrets: environment variables of the functions that list them.

Usage:
  nano-modal secret create NAME KEY=VALUE ... [--from-dotenv FILE] [--force]
  nano-modal secret list
  nano-modal secret delete NAME

Options:
  --from-dotenv FILE   read KEY=VALUE lines from a dotenv file (arguments override it)
  --force              replace a secret that exists
  --server URL         the control plane (env NANO_MODAL_SERVER); without one, the data dir
  --data-dir DIR       the data dir to use without a server (env NANO_MODAL_DATA_DIR;
                       default ~/.local/share/nano-modal, as for serve and run)
  --token TOKEN        its token (env NANO_MODAL_TOKEN)
  -h, --help           show this help`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Runs `nano-modal secret ...`; returns the exit code. */
export async function secretCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("secret", args, {
    ...CONNECTION_FLAGS,
    "from-dotenv": { type: "string" },
    force: { type: "boolean" },
  });
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    console.log(SECRET_HELP);
    return values.help ? 0 : 2;
  }
  const conn = await connectState(values);
  const client = createClient(SecretService, conn.transport);
  try {
    switch (sub) {
      case "create": {
        const [name, ...pairs] = rest;
        if (!name) throw new UsageError("secret create needs a NAME and KEY=VALUE pairs");
        const vars: Record<string, string> = {};
        if (typeof values["from-dotenv"] === "string") {
          const file = values["from-dotenv"];
          let text: string;
          try {
            text = await Deno.readTextFile(file);
          } catch (err) {
            throw new UsageError(`Cannot read ${file} (${(err as Error).name}): check the path`);
          }
          try {
            Object.assign(vars, parseDotenv(text, file));
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
        }
        for (const pair of pairs) {
          const eq = pair.indexOf("=");
          // Never echo the argument: it may be a value.
          if (eq < 0) {
            throw new UsageError(
              `Argument ${pairs.indexOf(pair) + 2} of secret create has no "=": write KEY=VALUE`,
            );
          }
          const key = pair.slice(0, eq);
          if (!ENV_NAME.test(key)) {
            throw new UsageError(
              `"${key}" is not a valid environment variable name: use letters, digits and "_", not starting with a digit`,
            );
          }
          vars[key] = pair.slice(eq + 1);
        }
        if (!Object.keys(vars).length) {
          throw new UsageError(
            "secret create needs at least one KEY=VALUE (or --from-dotenv FILE)",
          );
        }
        await conn.rpc(() =>
          client.createSecret({ name, values: vars, force: values.force === true })
        );
        console.log(`Created secret ${name} (${Object.keys(vars).sort().join(", ")})`);
        return 0;
      }
      case "list": {
        const { secrets } = await conn.rpc(() => client.listSecrets({}));
        if (!secrets.length) {
          console.log("No secrets: create one with `nano-modal secret create NAME KEY=VALUE`");
          return 0;
        }
        const width = Math.max(4, ...secrets.map((s) => s.name.length));
        console.log(
          `${"NAME".padEnd(width)}  ${"CREATED".padEnd(16)}  ${"UPDATED".padEnd(16)}  KEYS`,
        );
        for (const s of secrets) {
          console.log(
            `${s.name.padEnd(width)}  ${shortDate(s.createdMs)}  ${shortDate(s.updatedMs)}  ${
              s.keys.join(", ")
            }`,
          );
        }
        return 0;
      }
      case "delete": {
        if (rest.length !== 1) throw new UsageError("secret delete needs exactly one NAME");
        await conn.rpc(() => client.deleteSecret({ name: rest[0] }));
        console.log(`Deleted secret ${rest[0]}`);
        return 0;
      }
      default:
        throw new UsageError(
          `Unknown secret command "${sub}": use create, list or delete (see \`nano-modal secret --help\`)`,
        );
    }
  } finally {
    await conn.close();
  }
}

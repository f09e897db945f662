/** Flag parsing with errors that say what to do. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";
import { closest } from "../proto/mod.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses `args` for `command`; unknown flags and missing values are {@linkcode UsageError}s. */
export function parse(command: string, args: string[], options: Options) {
  const dashdash = args.indexOf("--");
  const own = dashdash >= 0 ? args.slice(0, dashdash) : args;
  const rest = dashdash >= 0 ? args.slice(dashdash + 1) : [];
  try {
    const parsed = parseArgs({
      args: own,
      options: { help: { type: "boolean", short: "h" }, ...options },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
      rest,
    };
  } catch (err) {
    const msg = (err as Error).message;
    const flag = msg.match(/'(-{1,2}[\w-]+)/)?.[1];
    if (/Unknown option/.test(msg) && flag) {
      const hint = closest(flag, Object.keys(options).map((n) => `--${n}`));
      throw new UsageError(
        `Unknown flag ${flag} for \`nano-modal ${command}\`${
          hint ? `: did you mean ${hint}?` : ""
        } (see \`nano-modal ${command} --help\`)`,
      );
    }
    if (/argument missing/.test(msg) && flag) {
      throw new UsageError(`${flag} needs a value (see \`nano-modal ${command} --help\`)`);
    }
    throw new UsageError(`${msg.split("\n")[0]} (see \`nano-modal ${command} --help\`)`);
  }
}

/** Checks a server URL flag or variable. */
export function serverUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} "${value}" is not a URL: use e.g. http://127.0.0.1:50051`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${source} "${value}" must start with http:// or https://`);
  }
  return url.href.replace(/\/$/, "");
}

export { intFlag, type IntFlagOptions } from "./_int_flag.ts";

/**
 * Modal-style flags for a local entrypoint: `app.localEntrypoint(({ n = 10,
 * name = "x" }) => ...)` is run with `-- --n 5 --name y`. The flags and their
 * types come from the destructured parameter's defaults (a number, a boolean,
 * else a string); an entrypoint taking a plain list gets the raw arguments.
 */
import { InvalidError } from "./errors.ts";

/** A flag's type, from its default value. */
type FlagType = "number" | "boolean" | "string";

/** The flags an entrypoint destructures, or `undefined` when it takes a plain list. */
export function entrypointFlags(
  fn: (...args: never[]) => unknown,
): Map<string, FlagType> | undefined {
  const source = Function.prototype.toString.call(fn);
  const open = source.match(/^\s*(?:async\s*)?(?:function\s*\*?\s*[\w$]*\s*)?\(\s*\{/);
  if (!open) return undefined;
  let depth = 1;
  let i = open[0].length;
  const start = i;
  for (; i < source.length && depth > 0; i++) {
    if ("{[(".includes(source[i])) depth++;
    else if ("}])".includes(source[i])) depth--;
  }
  const body = source.slice(start, i - 1);
  const flags = new Map<string, FlagType>();
  for (const part of splitTopLevel(body)) {
    const m = part.trim().match(/^([\w$]+)\s*(?::\s*[\w$]+\s*)?(?:=\s*([\s\S]+))?$/);
    if (!m) continue;
    const value = m[2]?.trim() ?? "";
    const type: FlagType = /^[-+]?(\d|\.\d)/.test(value)
      ? "number"
      : /^(true|false)$/.test(value)
      ? "boolean"
      : "string";
    flags.set(m[1], type);
  }
  return flags;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("{[(".includes(c)) depth++;
    else if ("}])".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(text.slice(from));
  return parts.filter((p) => p.trim() && !p.trim().startsWith("..."));
}

function usage(flags: Map<string, FlagType>): string {
  return [...flags].map(([name, type]) => type === "boolean" ? `--${name}` : `--${name} <${type}>`)
    .join(" ");
}

/**
 * What the entrypoint receives: the argument list, carrying the parsed flags as
 * properties when the entrypoint destructures them.
 * @throws {InvalidError} for an unknown flag or a value of the wrong type.
 */
export function entrypointArgument(
  fn: (...args: never[]) => unknown,
  args: string[],
  appName: string,
): string[] {
  const flags = entrypointFlags(fn);
  if (!flags) return args;
  const list: string[] = [];
  const values: Record<string, string | number | boolean> = {};
  const where = `the local entrypoint of app "${appName}"`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const m = arg.match(/^--(no-)?([^=]+)(?:=(.*))?$/);
    if (!m) {
      list.push(arg);
      continue;
    }
    const [, negated, name, inline] = m;
    const type = flags.get(name);
    if (!type) {
      throw new InvalidError(
        `Unknown flag --${name} for ${where}: it takes ${usage(flags) || "no flags"}`,
      );
    }
    if (type === "boolean") {
      values[name] = inline === undefined ? !negated : !/^(false|0|no)$/i.test(inline);
      continue;
    }
    const raw = inline ?? args[++i];
    if (raw === undefined) throw new InvalidError(`Flag --${name} of ${where} needs a ${type}`);
    if (type === "number") {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) {
        throw new InvalidError(`Flag --${name} of ${where} needs a number, got "${raw}"`);
      }
      values[name] = n;
    } else values[name] = raw;
  }
  return Object.assign(list, values);
}

/**
 * Dotenv files (`KEY=value` lines, `#` comments, optional quotes and
 * `export`), read the same way by `Secret.fromDotenv` and
 * `nano-modal secret create --from-dotenv`.
 * @module
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses dotenv text; a bad line is a `SyntaxError` naming the line, never its value.
 *
 * @example
 * ```ts
 * import { parseDotenv } from "./dotenv.ts";
 * console.log(parseDotenv("A=1\n# note\nexport B='two'", ".env")); // { A: "1", B: "two" }
 * ```
 */
export function parseDotenv(text: string, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = line.match(/^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/);
    if (!m) throw new SyntaxError(`${path}:${i + 1}: expected KEY=VALUE`);
    if (!ENV_NAME.test(m[1])) {
      throw new SyntaxError(
        `${path}:${i + 1}: ${JSON.stringify(m[1])} is not a valid environment variable name`,
      );
    }
    let value = m[2];
    const quoted = value.match(/^(["'])(.*)\1$/);
    if (quoted) {
      value = quoted[1] === '"'
        ? quoted[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\")
        : quoted[2];
    } else value = value.replace(/\s+#.*$/, "");
    out[m[1]] = value;
  });
  return out;
}

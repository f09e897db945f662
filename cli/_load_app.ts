/** Loading the user's app module for `run` and `deploy`, with errors that point at their code. */
import { UsageError } from "./errors.ts";

/** The file: URL of an app file, or a {@linkcode UsageError} saying what is wrong with the path. */
export async function resolveFile(file: string): Promise<string> {
  const path = file.startsWith("/") ? file : `${Deno.cwd()}/${file}`;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new UsageError(`${file} is not a file: give the path of your app's .ts file`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`Cannot find ${file}: check the path (relative to ${Deno.cwd()})`);
  }
  return new URL(`file://${await Deno.realPath(path)}`).href;
}

/** Imports the user's module (its apps register themselves in the runtime). */
export async function loadModule(file: string, entryUrl: string): Promise<void> {
  try {
    await import(entryUrl);
  } catch (err) {
    throw new UsageError(`Cannot load ${file}: ${userFrame(err, entryUrl)}`);
  }
  // Let a module that defines its app after an await finish registering it.
  await new Promise((r) => setTimeout(r, 0));
}

/** One line for an error thrown while loading the user's module: what, and where in their code. */
function userFrame(err: unknown, entryUrl: string): string {
  const e = err as Error;
  const message = String(e?.message ?? err);
  const first = message.split("\n")[0];
  // Deno reports a module that does not parse as a TypeError wrapping the SyntaxError.
  const what = /^[A-Z]\w*Error: /.test(first) ? first : `${e?.name ?? "Error"}: ${first}`;
  const at = message.match(/at (file:\/\/\S+?:\d+:\d+)/)?.[1] ??
    (e?.stack ?? "").split("\n").find((l) => l.includes(entryUrl))?.match(/(file:\/\/\S+?:\d+:\d+)/)
      ?.[1];
  const where = at ? ` (${at.replace(`file://${Deno.cwd()}/`, "")})` : "";
  return `${what}${where}`;
}

/**
 * `nano-modal run APP.ts::fn -- args`: one remote call of a named function,
 * its arguments parsed as JSON where they parse, its result printed.
 * @module
 */
import { NotFoundError } from "./errors.ts";
import { closest } from "../proto/suggest.ts";
import type { RemoteFunction } from "./remote_function.ts";

/** Calls `name` of app `appName` once with `args` and prints its result. */
export async function runFunction(
  appName: string,
  functions: ReadonlyMap<string, RemoteFunction<unknown[], unknown>>,
  name: string,
  args: string[],
): Promise<void> {
  const fn = functions.get(name);
  if (!fn) {
    const hint = closest(name, functions.keys());
    throw new NotFoundError(
      `App "${appName}" has no function "${name}"${
        hint ? `: did you mean "${hint}"?` : ` (it has ${[...functions.keys()].join(", ")})`
      }`,
    );
  }
  const parsed = args.map((a) => {
    try {
      return JSON.parse(a);
    } catch {
      return a;
    }
  });
  const result = await fn.remote(...parsed);
  if (result === undefined) return;
  let text: string;
  try {
    text = typeof result === "string" ? result : JSON.stringify(result);
  } catch {
    text = Deno.inspect(result, { depth: 8 });
  }
  console.log(text ?? Deno.inspect(result, { depth: 8 }));
}

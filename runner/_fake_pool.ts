/**
 * Test support: a {@linkcode FunctionPool} of a fake function on a
 * {@linkcode FakeRunner}, in a temporary directory that goes with it
 * (`await using`). Never used in production code.
 */
import type { create } from "../proto/deps.ts";
import type { FunctionDefSchema } from "../proto/messages.ts";
import { fakeDef, type FakeRunner } from "./_fake_runner.ts";
import { FunctionPool } from "./_pool.ts";
import type { Resources } from "./_resources.ts";
import type { NestedHandler } from "./_protocol.ts";
import type { WatchedClock } from "./_test_time.ts";

type DefInit = Parameters<typeof create<typeof FunctionDefSchema>>[1];

/**
 * A pool of a fake function `def`, on `runner` and `clock`, placed by `resources` if given;
 * calls from inside its sandboxes go to `onNested`.
 */
export async function makePool(
  runner: FakeRunner,
  clock: WatchedClock,
  def: DefInit = {},
  resources?: Resources,
  onNested?: NestedHandler,
): Promise<{ pool: FunctionPool } & AsyncDisposable> {
  const rootDir = await Deno.makeTempDir({ prefix: "nm-pool-" });
  const pool = new FunctionPool({
    functionId: "fu-test",
    appId: "ap-test0000",
    appName: "test",
    def: fakeDef(def),
    bundlePath: "/nonexistent/bundle.js",
    entrypointPath: "/nonexistent/entrypoint.js",
    rootDir,
    onOutput: () => {},
    onNested,
  }, { runner, clock, resources });
  return {
    pool,
    async [Symbol.asyncDispose]() {
      await pool.close();
      await Deno.remove(rootDir, { recursive: true });
    },
  };
}

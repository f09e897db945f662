/** For tests of the local socket and server announcements: a fresh runtime directory. */
import { TEST_RUNTIME_DIR } from "./local_socket.ts";

/**
 * Runs `fn` with a fresh directory in place of `XDG_RUNTIME_DIR` for this test file's
 * isolate (not the environment, which every test file in the process shares).
 */
export async function withRuntimeDir(fn: (runtime: string) => Promise<void> | void): Promise<void> {
  const slot = globalThis as Record<symbol, string | undefined>;
  const before = slot[TEST_RUNTIME_DIR];
  const runtime = await Deno.makeTempDir({ prefix: "nm-runtime-" });
  slot[TEST_RUNTIME_DIR] = runtime;
  try {
    await fn(runtime);
  } finally {
    slot[TEST_RUNTIME_DIR] = before;
    await Deno.remove(runtime, { recursive: true });
  }
}

/** `run --check`: type-checks the user's app with `deno check` before anything runs. */
import { denoPath, sdkImportMapFlags } from "../proto/mod.ts";
import { UsageError } from "./errors.ts";

/**
 * Runs `deno check` on the app at `path` (its own deno.json, else an import
 * map to the shipped SDK); Deno's diagnostics go to stderr as they are.
 * @throws {UsageError} when the app does not type-check
 */
export async function typeCheck(path: string, shown: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-check-" });
  try {
    const entryDir = path.slice(0, path.lastIndexOf("/")) || "/";
    const flags = await sdkImportMapFlags(entryDir, dir);
    const { code } = await new Deno.Command(denoPath(), {
      args: ["check", "--quiet", ...flags, path],
      cwd: entryDir,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) {
      throw new UsageError(
        `${shown} does not type-check: fix the errors above, or run without --check`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

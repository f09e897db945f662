/** Picks the runner: the flag, else docker when a daemon answers, else deno. */
import { DenoRunner, type Runner } from "../runner/mod.ts";
import { UsageError } from "./errors.ts";

/** Cache directory for bundles and images (`NANO_MODAL_CACHE`, else ~/.cache/nano-modal). */
export function cacheDir(): string {
  const explicit = Deno.env.get("NANO_MODAL_CACHE");
  if (explicit) return explicit;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/nano-modal`;
}

/** Creates the runner named by `flag` (or the best available one). */
export async function chooseRunner(
  flag: string | boolean | undefined,
  announce: (line: string) => void,
): Promise<Runner> {
  const name = flag ?? Deno.env.get("NANO_MODAL_RUNNER") ?? "auto";
  if (name !== "auto" && name !== "deno" && name !== "docker") {
    throw new UsageError(`--runner must be "docker" or "deno", got "${name}"`);
  }
  if (name === "docker") {
    throw new UsageError("The docker runner is not available in this build: use --runner deno");
  }
  if (name === "auto") announce("nano-modal: using the deno runner");
  await Deno.mkdir(`${cacheDir()}/deno`, { recursive: true });
  return new DenoRunner({ denoDir: `${cacheDir()}/deno` });
}

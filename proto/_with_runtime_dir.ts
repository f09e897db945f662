/** For tests of the local socket and server announcements: a fresh XDG_RUNTIME_DIR. */

/** Runs `fn` with XDG_RUNTIME_DIR set to a fresh directory, restoring it after. */
export async function withRuntimeDir(fn: (runtime: string) => Promise<void> | void): Promise<void> {
  const before = Deno.env.get("XDG_RUNTIME_DIR");
  const runtime = await Deno.makeTempDir({ prefix: "nm-runtime-" });
  Deno.env.set("XDG_RUNTIME_DIR", runtime);
  try {
    await fn(runtime);
  } finally {
    if (before === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else Deno.env.set("XDG_RUNTIME_DIR", before);
    await Deno.remove(runtime, { recursive: true });
  }
}

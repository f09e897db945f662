/**
 * Writing a file whole or not at all, for caches that several processes
 * share: a reader sees the old file or the new one, never half of one.
 * @module
 */

/**
 * Writes `data` to a temp file beside `path`, then renames it over `path`; on
 * failure removes the temp file and rethrows.
 */
export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await (typeof data === "string" ? Deno.writeTextFile(tmp, data) : Deno.writeFile(tmp, data));
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

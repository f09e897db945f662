/**
 * Deleting a file only if nothing used it lately, safely against a use at the
 * same moment: where a use marks a file by setting its modification time (a
 * blob asked for, a cached bundle loaded), a check followed by a delete could
 * delete a file that was used between the two.
 * @module
 */

/**
 * Removes `path` if it was last modified before `beforeMs`; returns its size
 * if it went, else null. The file is first moved to `aside` (an atomic rename
 * on the same filesystem, to a name the caller's own cleanup of dead writers'
 * temp files covers), then checked: a use that found it before the move shows
 * in the time checked (the file is put back, unless a writer stored it again
 * meanwhile), and one after the move finds no file.
 */
export async function removeUnusedSince(
  path: string,
  beforeMs: number,
  aside: string,
): Promise<number | null> {
  try {
    await Deno.rename(path, aside);
  } catch {
    return null; // gone meanwhile
  }
  const stat = await Deno.stat(aside).catch(() => undefined);
  const mtime = stat?.mtime?.getTime();
  if (stat === undefined || mtime === undefined || mtime >= beforeMs) {
    // Used after all: back in place, unless it was stored again meanwhile (the same content).
    await Deno.link(aside, path).catch(() => {});
    await Deno.remove(aside).catch(() => {});
    return null;
  }
  await Deno.remove(aside).catch(() => {});
  return stat.size;
}

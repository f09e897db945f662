/**
 * Client and server agree on the wire within one minor version; a difference
 * in major or minor gets one warning line, a difference in patch none.
 */

/** A one-line warning when `client` and `server` differ in major or minor, else undefined. */
export function versionMismatch(client: string, server: string): string | undefined {
  const c = majorMinor(client);
  const s = majorMinor(server);
  if (!c || !s || c === s) return undefined;
  return `nano-modal client ${client} and server ${server} differ in version: upgrade the older one to ${
    compare(c, s) < 0 ? server : client
  } (some features may fail until they match)`;
}

function majorMinor(version: string): string | undefined {
  return version.match(/^v?(\d+)\.(\d+)\.\d+/)?.slice(1, 3).join(".");
}

function compare(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return am - bm || an - bn;
}

/**
 * What a deno sandbox with the default network may not reach: the host's
 * loopback, its own addresses, link-local and private ranges — where the
 * control plane, Redis, the Docker API over TCP, cloud metadata and the
 * user's LAN live. Passed to Deno as `--deny-net`; Deno checks it against
 * the address a name resolves to as well, so a hostname pointing at
 * 127.0.0.1 is denied too.
 *
 * Deno 2.9 takes IPv4 ranges in CIDR form but no IPv6 ranges, so IPv6 is
 * covered address by address: the unspecified and loopback addresses and
 * every address of the host's interfaces (IPv4-mapped IPv6 addresses are
 * checked as their IPv4 form).
 */

/** IPv4 ranges no sandbox reaches: loopback, private, link-local, CGNAT, multicast, reserved. */
export const DENIED_IPV4_RANGES = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

/** Host names and IPv6 addresses no sandbox reaches, whatever the host's interfaces. */
const DENIED_NAMES = ["localhost", "[::]", "[::1]", "host.docker.internal"];

/** The `--deny-net` list for sandboxes on this host. */
export function deniedNet(): string[] {
  const own: string[] = [];
  try {
    for (const iface of Deno.networkInterfaces()) {
      const address = iface.address.replace(/%.*$/, "");
      own.push(iface.family === "IPv6" ? `[${address}]` : address);
    }
  } catch {
    // No interface list (a restricted worker): the fixed ranges still apply.
  }
  let hostname: string[] = [];
  try {
    // Deno refuses the whole list over one name it cannot parse.
    hostname = [Deno.hostname()].filter((h) => /^[a-z0-9][a-z0-9.-]*$/i.test(h));
  } catch {
    hostname = [];
  }
  return [...new Set([...DENIED_IPV4_RANGES, ...DENIED_NAMES, ...hostname, ...own])];
}

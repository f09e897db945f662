import { toHex } from "../proto/content_hash.ts";

/** Random ids with a readable prefix: `ap-…` apps, `fu-…` functions, `fc-…` calls. */
export function newId(prefix: "ap" | "fu" | "fc" | "wk"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let s = "";
  for (const b of bytes) s += b.toString(36).padStart(2, "0").slice(-2);
  return `${prefix}-${s}`;
}

const ID = /^(ap|fu|fc|wk)-[0-9a-z]{1,64}$/;

/** Whether `id` looks like one of ours with the given prefix. */
export function isId(id: string, prefix: string): boolean {
  return ID.test(id) && id.startsWith(`${prefix}-`);
}

/** `bytes` random bytes as lowercase hex (secrets, nonces). */
export function randomHex(bytes: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

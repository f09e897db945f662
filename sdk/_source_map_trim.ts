/**
 * Drops source-map mappings into sources the user never sees: a sandbox pays
 * for every byte of a bundle's inline map when it imports it, and in a bundle
 * of `hello.ts` two thirds of the mappings point into the SDK's npm packages.
 * Frames there then show the bundle's position instead; the user's own files
 * (and the SDK's) keep theirs.
 */

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

function decode(segment: string): number[] {
  const out: number[] = [];
  let value = 0, shift = 0;
  for (const ch of segment) {
    const d = DIGIT.get(ch) ?? 0;
    value += (d & 31) << shift;
    shift += 5;
    if (!(d & 32)) {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = shift = 0;
    }
  }
  return out;
}

function encode(values: number[]): string {
  let text = "";
  for (const v of values) {
    let n = v < 0 ? (-v << 1) | 1 : v << 1;
    do {
      let d = n & 31;
      n >>>= 5;
      if (n > 0) d |= 32;
      text += B64[d];
    } while (n > 0);
  }
  return text;
}

/** `mappings` without the segments whose source index `drop` says to drop. */
export function trimMappings(mappings: string, drop: (source: number) => boolean): string {
  // Fields 1-4 (source, line, column, name) run on across lines; field 0 restarts per line.
  const abs = [0, 0, 0, 0, 0];
  const last = [0, 0, 0, 0, 0];
  return mappings.split(";").map((line) => {
    abs[0] = last[0] = 0;
    const kept: string[] = [];
    for (const segment of line.split(",")) {
      if (!segment) continue;
      const f = decode(segment);
      for (let i = 0; i < f.length; i++) abs[i] += f[i];
      if (f.length > 1 && drop(abs[1])) continue;
      const out = [abs[0] - last[0]];
      last[0] = abs[0];
      for (let i = 1; i < f.length; i++) {
        out.push(abs[i] - last[i]);
        last[i] = abs[i];
      }
      kept.push(encode(out));
    }
    return kept.join(",");
  }).join(";");
}

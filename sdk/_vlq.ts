/** Source maps' base64 VLQ: one segment's fields to text and back. */

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

/** The fields of one mappings segment (each relative, as written). */
export function decodeSegment(segment: string): number[] {
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

/** One mappings segment of `values`. */
export function encodeSegment(values: number[]): string {
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

/**
 * Re-encodes `mappings` segment by segment: `edit` sees each segment's absolute fields
 * (column, source, line, column in source, name; fields 1-4 run on across lines) and returns
 * those to write, or undefined to drop the segment. Writing starts from the running state
 * `from` (fields 1-4), so the result can follow other mappings; returns it and the state it
 * ends in.
 */
export function rewriteMappings(
  mappings: string,
  edit: (abs: number[]) => number[] | undefined,
  from: number[] = [0, 0, 0, 0, 0],
): { mappings: string; end: number[] } {
  const abs = [0, 0, 0, 0, 0];
  const last = [...from];
  const text = mappings.split(";").map((line) => {
    abs[0] = last[0] = 0;
    const kept: string[] = [];
    for (const segment of line.split(",")) {
      if (!segment) continue;
      const f = decodeSegment(segment);
      for (let i = 0; i < f.length; i++) abs[i] += f[i];
      const out = edit(abs.slice(0, f.length));
      if (!out) continue;
      const delta = out.map((v, i) => v - last[i]);
      for (let i = 0; i < out.length; i++) last[i] = out[i];
      kept.push(encodeSegment(delta));
    }
    return kept.join(",");
  }).join(";");
  return { mappings: text, end: last };
}

/**
 * What the worker prints itself never shows a secret's value: every value a
 * sandbox of this process was given is replaced before a line goes out.
 */

const values = new Set<string>();

/** Remembers values to hide (short ones are too common to hide usefully). */
export function hideValues(env: Record<string, string>): void {
  for (const v of Object.values(env)) if (v.length >= 4) values.add(v);
}

/** `text` with every remembered value replaced by `***`. */
export function redact(text: string): string {
  if (!values.size) return text;
  for (const v of values) if (text.includes(v)) text = text.replaceAll(v, "***");
  return text;
}

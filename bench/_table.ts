/** A benchmark result row and the table that prints them. */
export interface Row {
  name: string;
  value: string;
  baseline?: string;
  ratio?: string;
  goal?: string;
}

/** Prints rows as an aligned text table. */
export function printTable(title: string, rows: Row[]): void {
  const head = ["benchmark", "value", "baseline (same run)", "ratio", "goal"];
  const cells = rows.map((r) => [r.name, r.value, r.baseline ?? "", r.ratio ?? "", r.goal ?? ""]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i])).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const c of cells) console.log(line(c));
}

/** The p-th percentile (0..100) of samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Milliseconds with a sensible number of digits. */
export function ms(n: number): string {
  return n < 10 ? `${n.toFixed(3)} ms` : `${n.toFixed(1)} ms`;
}

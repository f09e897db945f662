/** Progress of a big transfer on stderr: a live line on a terminal, quarter marks otherwise. */

/** Transfers below this size show no progress. */
const QUIET_BYTES = 8 * 1024 * 1024;

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}

/** Bytes moved out of a known total. */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  #moved = 0;
  #lastQuarter = 0;
  readonly #tty = Deno.stderr.isTerminal();
  readonly #started = performance.now();

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
  }

  /** Counts `n` more bytes moved. */
  add(n: number): void {
    this.#moved = Math.min(this.#total, this.#moved + n);
    this.#show();
  }

  #show(): void {
    if (this.#total < QUIET_BYTES) return;
    const pct = Math.floor((this.#moved / this.#total) * 100);
    const secs = (performance.now() - this.#started) / 1000;
    const rate = secs > 0 ? ` ${mib(this.#moved / secs)} MiB/s` : "";
    const line = `${this.#label}  ${mib(this.#moved)}/${mib(this.#total)} MiB (${pct}%)${rate}`;
    if (this.#tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`));
    else if (Math.floor(pct / 25) > this.#lastQuarter) {
      this.#lastQuarter = Math.floor(pct / 25);
      console.error(line);
    }
  }

  /** Ends the live line. */
  done(): void {
    if (this.#tty && this.#total >= QUIET_BYTES) {
      Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    }
  }
}

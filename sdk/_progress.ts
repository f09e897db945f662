/**
 * One status line at the bottom of a terminal (for `.map` progress), which
 * log output clears and redraws around. Draws nothing when stderr is not a
 * terminal, so piped output stays clean.
 */
const encoder = new TextEncoder();
const enabled = (() => {
  try {
    return Deno.stderr.isTerminal() && !Deno.env.get("CI");
  } catch {
    return false;
  }
})();

let status = "";
let lastDraw = 0;

function write(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** Shows `text` as the status line (rate-limited unless `force`). */
export function setStatus(text: string, force = false): void {
  if (!enabled) return;
  const now = performance.now();
  if (!force && now - lastDraw < 80) {
    status = text;
    return;
  }
  lastDraw = now;
  status = text;
  write(`\r\x1b[2K${text}`);
}

/** Removes the status line. */
export function clearStatus(): void {
  if (!enabled || !status) return;
  status = "";
  write("\r\x1b[2K");
}

/** Writes whole lines to stdout or stderr without garbling the status line. */
export function printLines(fd: 1 | 2, text: string): void {
  if (enabled && status) write("\r\x1b[2K");
  (fd === 1 ? Deno.stdout : Deno.stderr).writeSync(encoder.encode(text));
  if (enabled && status) write(status);
}

/** A progress bar like `square.map  ████████░░░░  812/2000`. */
export function progressBar(label: string, done: number, total: number | null): string {
  if (total === null || total === 0) return `${label}  ${done} done`;
  const width = 24;
  const filled = Math.round((done / total) * width);
  return `${label}  ${"█".repeat(filled)}${"░".repeat(width - filled)}  ${done}/${total}`;
}

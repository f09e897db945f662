/** Starts a control plane with embedded workers for the benchmarks. */
const ROOT = new URL("../", import.meta.url).pathname;

/**
 * Starts `serve --with-workers --runner deno` (`runner`: another, or `null` for the default one)
 * with `extra` flags; returns its URL and process.
 */
export async function startServe(
  extra: string[] = [],
  runner: string | null = "deno",
): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // As `deno task install`, `deno task compile` and the image run nano-modal: a server's
      // old generation is collected once it grows 20% past its live data (peak RSS over
      // five 20k maps 342 → 174 MiB here, same rates), not left to grow several-fold.
      "--v8-flags=--heap-growing-percent=20",
      `${ROOT}main.ts`,
      "serve",
      "--port",
      "0",
      "--with-workers",
      ...(runner ? ["--runner", runner] : []),
      ...extra,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${text}`);
    text += value;
    const m = text.match(/listening on (http:\/\/\S+)/);
    if (m) {
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      return { url: m[1], child };
    }
  }
}

/** Helpers for end-to-end tests: run the real CLI as a subprocess. */
export const ROOT = new URL("../", import.meta.url).pathname;
export const MAIN = `${ROOT}main.ts`;

/** What a finished CLI run printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode runCli}. */
export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

let dataDir: string | undefined;

/** One data dir for every CLI run of this test file, so tests never touch the user's. */
function testDataDir(): string {
  if (!dataDir) {
    const dir = dataDir = Deno.makeTempDirSync({ prefix: "nano_modal_test_data_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  }
  return dataDir;
}

/**
 * One XDG_RUNTIME_DIR for this test file, its own clients and every CLI run it starts: the
 * servers it starts announce their sockets and themselves there (`proto/local_socket.ts`,
 * `proto/local_server.ts`), where other test files' commands never look, and where this
 * file's own clients find them.
 */
const runtimeDir = (() => {
  const dir = Deno.makeTempDirSync({ prefix: "nano_modal_test_runtime_" });
  Deno.chmodSync(dir, 0o700);
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  Deno.env.set("XDG_RUNTIME_DIR", dir);
  return dir;
})();

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.NANO_MODAL_SERVER;
  delete env.NANO_MODAL_TOKEN;
  // Plain scripts (`deno run -A app.ts`) find the CLI the documented way; here, this checkout's.
  env.NANO_MODAL_CLI = MAIN;
  env.NANO_MODAL_DATA_DIR = testDataDir();
  env.XDG_RUNTIME_DIR = runtimeDir;
  return { ...env, ...extra };
}

/** Runs `deno run -A main.ts ...args` and waits for it. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return await runDeno(["run", "-A", MAIN, ...args], options);
}

/** Starts `deno ...args` with piped output and the test environment. */
function spawnDeno(args: string[], options: CliOptions): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? ROOT,
    env: baseEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs `deno ...args` and waits for it (killed after `timeoutMs`). */
export async function runDeno(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnDeno(args, options);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** A long-running CLI process whose output is collected as it arrives. */
export class CliProcess {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #done: Promise<unknown>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], options: CliOptions = {}) {
    this.child = spawnDeno(["run", "-A", MAIN, ...args], options);
    this.#done = Promise.all([
      this.#collect(this.child.stdout, (t) => this.stdout += t),
      this.#collect(this.child.stderr, (t) => this.stderr += t),
    ]);
  }

  async #collect(stream: ReadableStream<Uint8Array>, add: (t: string) => void) {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      add(dec.decode(chunk, { stream: true }));
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  /** Waits until `pattern` appears in stdout+stderr; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const m = (this.stdout + this.stderr).match(pattern);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Timed out waiting for ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a signal and waits for the process to end; returns its exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // Already exited.
    }
    const status = await this.child.status;
    await this.#done;
    return status.code;
  }

  /** Waits for the process to exit by itself. */
  async exited(): Promise<number> {
    const status = await this.child.status;
    await this.#done;
    return status.code;
  }
}

/** Starts `nano-modal serve --port 0 ...args` and resolves once it listens. */
export async function startServe(args: string[] = [], options: CliOptions = {}) {
  const proc = new CliProcess(["serve", "--port", "0", ...args], options);
  const m = await proc.waitFor(/listening on (http:\/\/\S+)/, options.timeoutMs ?? 30_000);
  return { proc, url: m[1] };
}

/** Directories {@linkcode tempDir} made, removed when this test file's process ends. */
const madeDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of madeDirs) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* gone already */ }
  }
});

/** A new temporary directory, removed when this test file's process ends. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  madeDirs.push(dir);
  return dir;
}

/** Writes a temporary app file and returns its path. */
export async function writeApp(source: string, dir?: string): Promise<string> {
  const base = dir ?? await tempDir("nano-modal-test-");
  const path = `${base}/app.ts`;
  await Deno.writeTextFile(path, source);
  return path;
}

/** Fails with both outputs when `cond` is false. */
export function check(
  cond: boolean,
  what: string,
  result: { stdout: string; stderr: string },
): void {
  if (!cond) {
    throw new Error(`${what}\n--- stdout:\n${result.stdout}\n--- stderr:\n${result.stderr}`);
  }
}

/**
 * The worker's side of one sandbox: listens on its unix socket, starts it
 * through a runner, waits until the bundle is loaded, then runs inputs over
 * the entrypoint protocol. If the sandbox ends, every input in it fails with
 * {@linkcode SandboxDiedError}.
 */
import {
  type BodyMessage,
  type DoneMessage,
  FrameWriter,
  type HeadMessage,
  readFrames,
  SYNC_MARKER,
} from "./_protocol.ts";
import type { Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";
import { SandboxDiedError, SandboxInitError, SandboxStartError } from "./errors.ts";

const START_TIMEOUT_MS = 120_000;

/** A started, ready sandbox. */
export class WarmSandbox {
  readonly id: string;
  readonly #sandbox: Sandbox;
  readonly #writer: FrameWriter;
  readonly #conn: Deno.Conn;
  readonly #dir: string;
  readonly #inflight = new Map<string, PromiseWithResolvers<DoneMessage>>();
  /** Listeners of web inputs' response heads and body chunks. */
  readonly #streams = new Map<string, (msg: HeadMessage | BodyMessage) => void>();
  #dead: SandboxDiedError | null = null;
  /** Highest sync marker seen on stdout (index 0) and stderr (index 1). */
  readonly #synced = [0, 0];
  #syncWaiters: { seq: number; resolve: () => void }[] = [];
  /** When the sandbox last finished an input (for scale-down). */
  idleSinceMs = Date.now();

  private constructor(sandbox: Sandbox, conn: Deno.Conn, dir: string) {
    this.id = sandbox.id;
    this.#sandbox = sandbox;
    this.#conn = conn;
    this.#writer = new FrameWriter(conn);
    this.#dir = dir;
  }

  /** Starts a sandbox and waits until it has loaded the bundle. */
  static async start(
    runner: Runner,
    spec: Omit<SandboxSpec, "socketDir">,
    rootDir: string,
  ): Promise<WarmSandbox> {
    const dir = `${rootDir}/${spec.sandboxId}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    const listener = Deno.listen({ transport: "unix", path: `${dir}/sock` });
    // Containers run as another user: it must be able to connect.
    await Deno.chmod(`${dir}/sock`, 0o777);
    let sandbox: Sandbox | undefined;
    let warm: WarmSandbox | undefined;
    const early: [1 | 2, string][] = [];
    const onOutput = (fd: 1 | 2, text: string) => {
      if (warm) warm.#output(fd, text, spec.onOutput);
      else early.push([fd, text]);
    };
    try {
      sandbox = await runner.start({ ...spec, socketDir: dir, onOutput });
      const conn = await race(listener.accept(), sandbox.exited, "start");
      warm = new WarmSandbox(sandbox, conn, dir);
      for (const [fd, text] of early.splice(0)) warm.#output(fd, text, spec.onOutput);
      await warm.#handshake();
      return warm;
    } catch (err) {
      await sandbox?.kill();
      // What it printed before dying is the best clue the user gets.
      const printed = early.splice(0);
      for (const [fd, text] of printed) spec.onOutput(fd, text);
      if (err instanceof SandboxDiedError && !err.oom) {
        const stderr = printed.filter(([fd]) => fd === 2).map(([, t]) => t).join("");
        const last = stderr.trim().split("\n").filter((l) => l.trim() && !/^\s+at /.test(l)).at(-1);
        throw new SandboxStartError(`${err.message}${last ? `: ${last.trim()}` : ""}`, {
          cause: err,
        });
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw err;
    } finally {
      listener.close();
    }
  }

  /** Strips sync markers from output, forwards the rest, and wakes results waiting on them. */
  #output(fd: 1 | 2, text: string, forward: SandboxSpec["onOutput"]): void {
    if (text.includes("\u0000nm-sync:")) {
      text = text.replace(SYNC_MARKER, (_m, seq: string) => {
        this.#synced[fd - 1] = Math.max(this.#synced[fd - 1], Number(seq));
        return "";
      });
      const low = Math.min(this.#synced[0], this.#synced[1]);
      this.#syncWaiters = this.#syncWaiters.filter((w) =>
        w.seq <= low ? (w.resolve(), false) : true
      );
    }
    if (text) forward(fd, text);
  }

  /** Resolves once output up to marker `seq` has been forwarded (or after a short grace). */
  #awaitSync(seq: number): Promise<void> {
    if (Math.min(this.#synced[0], this.#synced[1]) >= seq) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      this.#syncWaiters.push({ seq, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async #handshake(): Promise<void> {
    const frames = readFrames(this.#conn);
    const first = await race(frames.next(), this.#sandbox.exited, "load");
    const msg = first.done ? undefined : first.value[0];
    if (msg?.t === "init-failed") {
      throw new SandboxInitError(msg.error.name, msg.error.message, msg.error.stack);
    }
    if (msg?.t !== "ready") {
      throw new SandboxDiedError("The sandbox closed before it was ready", false);
    }
    this.#pump(frames);
  }

  async #pump(frames: AsyncGenerator<import("./_protocol.ts").ProtocolMessage[]>): Promise<void> {
    try {
      for await (const batch of frames) {
        for (const msg of batch) {
          if (msg.t === "head" || msg.t === "body") this.#streams.get(msg.id)?.(msg);
          if (msg.t !== "done") continue;
          this.#streams.delete(msg.id);
          const waiter = this.#inflight.get(msg.id);
          this.#inflight.delete(msg.id);
          if (msg.sync) this.#awaitSync(msg.sync).then(() => waiter?.resolve(msg));
          else waiter?.resolve(msg);
        }
      }
    } catch {
      // A broken socket: handled below like an exit.
    }
    const exit = await Promise.race([this.#sandbox.exited, delay(2_000).then(() => null)]);
    this.#die(exit);
  }

  #die(exit: SandboxExit | null, kill = true): void {
    if (this.#dead) return;
    const oom = exit?.oom ?? false;
    const how = exit
      ? exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`
      : "closed its connection";
    this.#dead = new SandboxDiedError(
      oom ? "The sandbox ran out of memory" : `The sandbox ${how}`,
      oom,
    );
    for (const waiter of this.#inflight.values()) waiter.reject(this.#dead);
    this.#inflight.clear();
    this.#streams.clear();
    if (kill) this.#sandbox.kill().catch(() => {});
  }

  /** Whether the sandbox can take inputs. */
  get alive(): boolean {
    return this.#dead === null;
  }

  /** Inputs running now. */
  get load(): number {
    return this.#inflight.size;
  }

  /** Runs one input; rejects with {@linkcode SandboxDiedError} if the sandbox ends. */
  run(id: string, fn: string, args: Uint8Array, web?: WebStream): Promise<DoneMessage> {
    if (this.#dead) return Promise.reject(this.#dead);
    const waiter = Promise.withResolvers<DoneMessage>();
    this.#inflight.set(id, waiter);
    if (web) this.#streams.set(id, web.onMessage);
    this.#writer.send({ t: "run", id, fn, args, web: web !== undefined });
    return waiter.promise.finally(() => this.idleSinceMs = Date.now());
  }

  /** Sends a web request's body chunk (none: the end) to the sandbox. */
  sendBody(id: string, chunk?: Uint8Array): void {
    if (!this.#dead) this.#writer.send({ t: "body", id, chunk });
  }

  /**
   * Stops the sandbox (a timeout, or scale-down) and removes its socket. With
   * `graceMs`, the sandbox may first run its exit hooks for that long.
   */
  async stop(graceMs = 0): Promise<void> {
    this.#die(null, graceMs <= 0);
    if (graceMs > 0) await this.#writer.flush().catch(() => {});
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    if (graceMs > 0) await Promise.race([this.#sandbox.exited, delay(graceMs)]);
    await this.#sandbox.kill();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** How a web input's response reaches the worker. */
export interface WebStream {
  onMessage(msg: HeadMessage | BodyMessage): void;
}

async function race<T>(work: Promise<T>, exited: Promise<SandboxExit>, phase: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SandboxDiedError(
            `The sandbox did not ${phase} within ${START_TIMEOUT_MS / 1000} s`,
            false,
          ),
        ),
      START_TIMEOUT_MS,
    );
  });
  const died = exited.then((exit): never => {
    throw new SandboxDiedError(
      exit.oom
        ? "The sandbox ran out of memory while starting"
        : `The sandbox ended while starting (exit code ${exit.code ?? exit.signal})`,
      exit.oom,
    );
  });
  try {
    return await Promise.race([work, died, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The worker's side of one sandbox: listens on its unix socket, starts it
 * through a runner, waits until the bundle is loaded, then runs inputs over
 * the entrypoint protocol. If the sandbox ends, every input in it fails with
 * {@linkcode SandboxDiedError}.
 *
 * Sync markers on its pipes ("logs before result") are read in `_output_sync.ts`.
 */
import { type Clock, systemClock } from "../proto/clock.ts";
import { race } from "./_start_deadline.ts";
import {
  type DoneMessage,
  FrameWriter,
  isWebMessage,
  type NestedHandler,
  type NestedMessage,
  type ProtocolMessage,
  readFrames,
  type RunMessage,
  type VolumeOpMessage,
  type WebMessage,
} from "./_protocol.ts";
import { OutputSync } from "./_output_sync.ts";
import { answerNested } from "./_nested_reply.ts";
import { Parking } from "./_parking.ts";
import { deathErrors } from "./_death_errors.ts";
import type { Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";
import { SandboxDiedError, SandboxInitError, SandboxStartError, type UserFault } from "./errors.ts";
import type { RunEvents, SandboxRun } from "./_sandbox_run.ts";

export { START_TIMEOUT_MS } from "./_start_deadline.ts";
export type { RunEvents, SandboxRun, WebStream } from "./_sandbox_run.ts";
/** How long a sandbox that closed its socket has to exit before it counts as dead anyway. */
export const EXIT_GRACE_MS = 2_000;

/** Where and on what clock {@linkcode WarmSandbox.start} runs a sandbox. */
export interface WarmSandboxOptions {
  /** The directory under which the sandbox gets its own socket directory. */
  rootDir: string;
  /** Times the start, the output grace and idleness. @default systemClock */
  clock?: Clock;
  /** Answers calls user code in the sandbox makes (`fn.remote()` inside a function). */
  onNested?: NestedHandler;
  /** Told when every input running in the sandbox waits on nested calls, and when not. */
  onParked?: (sandbox: WarmSandbox, parked: boolean) => void;
}

interface InFlight {
  /** Running in the sandbox (not queued there). */
  started: boolean;
  events: RunEvents;
}

/** A started, ready sandbox. */
export class WarmSandbox {
  readonly id: string;
  readonly #sandbox: Sandbox;
  readonly #writer: FrameWriter;
  readonly #conn: Deno.Conn;
  readonly #dir: string;
  /** Inputs sent and not finished, in the order sent. */
  readonly #inflight = new Map<string, InFlight>();
  /** Inputs queued in the sandbox (not started there yet), oldest first from `#queuedHead`. */
  #queued: string[] = [];
  #queuedHead = 0;
  /** Listeners of web inputs' response heads and body chunks. */
  readonly #streams = new Map<string, (msg: WebMessage) => void>();
  #dead: SandboxDiedError | null = null;
  /** The `max` sent with runs: the sandbox starts queued inputs in order, `max` at a time. */
  #max: number | undefined;
  /** Set when user code announced it is ending the sandbox. */
  #userFault?: UserFault;
  /** Highest sync marker seen on stdout (index 0) and stderr (index 1). */
  readonly #sync: OutputSync;
  readonly #clock: Clock;
  /** When the sandbox last finished an input (for scale-down). */
  idleSinceMs: number;
  #onNested?: NestedHandler;
  /** Inputs running (sent, not queued there) that wait on nested calls (`_parking.ts`). */
  #parking = new Parking(() => this.#inflight.size - this.#queued.length + this.#queuedHead);

  private constructor(sandbox: Sandbox, conn: Deno.Conn, at: { dir: string; clock: Clock }) {
    this.id = sandbox.id;
    this.#sandbox = sandbox;
    this.#conn = conn;
    this.#writer = new FrameWriter(conn);
    this.#dir = at.dir;
    this.#clock = at.clock;
    this.#sync = new OutputSync(at.clock);
    this.idleSinceMs = at.clock.now();
  }

  /** Starts a sandbox and waits until it has loaded the bundle. */
  static async start(
    runner: Runner,
    spec: Omit<SandboxSpec, "socketDir">,
    options: WarmSandboxOptions,
  ): Promise<WarmSandbox> {
    const clock = options.clock ?? systemClock;
    const dir = `${options.rootDir}/${spec.sandboxId}`;
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
      const conn = await race(listener.accept(), { exited: sandbox.exited, phase: "start", clock });
      warm = new WarmSandbox(sandbox, conn, { dir, clock });
      warm.#onNested = options.onNested;
      warm.#parking.onChange = (parked) => options.onParked?.(warm!, parked);
      for (const [fd, text] of early.splice(0)) warm.#output(fd, text, spec.onOutput);
      await warm.#handshake();
      return warm;
    } catch (err) {
      await sandbox?.kill();
      // What it printed before dying is the best clue the user gets.
      const printed = early.splice(0);
      for (const [fd, text] of printed) spec.onOutput(fd, text);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (err instanceof SandboxDiedError && !err.oom) {
        const stderr = printed.filter(([fd]) => fd === 2).map(([, t]) => t).join("");
        const last = stderr.trim().split("\n").filter((l) => l.trim() && !/^\s+at /.test(l)).at(-1);
        throw new SandboxStartError(`${err.message}${last ? `: ${last.trim()}` : ""}`, {
          cause: err,
        });
      }
      throw err;
    } finally {
      listener.close();
    }
  }

  /** Strips sync markers from output and forwards the rest, tagged when one input runs. */
  #output(fd: 1 | 2, text: string, forward: SandboxSpec["onOutput"]): void {
    text = this.#sync.strip(fd, text);
    // A sandbox running one input at a time tells whose output it is.
    const only = this.#inflight.size === 1 ? this.#inflight.keys().next().value : undefined;
    if (text) forward(fd, text, only);
  }

  async #handshake(): Promise<void> {
    const frames = readFrames(this.#conn);
    const first = await race(frames.next(), {
      exited: this.#sandbox.exited,
      phase: "load",
      clock: this.#clock,
    });
    const msg = first.done ? undefined : first.value[0];
    if (msg?.t === "init-failed") {
      throw new SandboxInitError(msg.error.message, msg.error);
    }
    if (msg?.t !== "ready") {
      throw new SandboxDiedError("The sandbox closed before it was ready");
    }
    this.#pump(frames);
  }

  async #pump(frames: AsyncGenerator<ProtocolMessage[]>): Promise<void> {
    try {
      for await (const batch of frames) {
        // A frame's results came at once: one reading of the clock serves them all.
        let nowMs: number | undefined;
        for (const msg of batch) {
          if (isWebMessage(msg)) this.#streams.get(msg.id)?.(msg);
          if (msg.t === "volume") this.#volumeOp(msg);
          if (msg.t === "nested") this.#nested(msg);
          if (msg.t === "fatal") this.#userFault = msg.error;
          if (msg.t !== "done") continue;
          this.#streams.delete(msg.id);
          const waiter = this.#inflight.get(msg.id);
          this.#inflight.delete(msg.id);
          this.idleSinceMs = nowMs ??= this.#clock.now();
          if (waiter?.started) this.#startQueued(1);
          this.#parking.finished(msg.id);
          if (!waiter) continue;
          if (msg.sync) this.#sync.wait(msg.sync).then(() => deliver(waiter.events, msg));
          else deliver(waiter.events, msg);
        }
      }
    } catch {
      // A broken socket: handled below like an exit.
    }
    const grace = new AbortController();
    const exit = await Promise.race([
      this.#sandbox.exited,
      this.#clock.sleep(EXIT_GRACE_MS, grace.signal).then(() => null, () => null),
    ]);
    grace.abort();
    this.#die(exit);
  }

  /** A `vol.commit()` / `vol.reload()` from inside: done by the runner's volume layer. */
  #volumeOp(msg: VolumeOpMessage): void {
    const op = this.#sandbox.volumeOp?.(msg.op, msg.name) ??
      Promise.reject(new Error(`Volume "${msg.name}" is not mounted in this function`));
    op.then(
      () => this.#writer.send({ t: "volume-done", id: msg.id }),
      (err) => this.#writer.send({ t: "volume-done", id: msg.id, error: (err as Error).message }),
    );
  }

  /** Makes a call user code asked for, and sends back its answer. */
  #nested(msg: NestedMessage): void {
    this.#parking.track(msg.input, answerNested(msg, this.#onNested, this.#writer));
  }

  #die(exit: SandboxExit | null, kill = true): void {
    if (this.#dead) return;
    const { dead, queued } = deathErrors(exit, this.#userFault);
    this.#dead = dead;
    const waiters = [...this.#inflight.values()];
    this.#inflight.clear();
    this.idleSinceMs = this.#clock.now();
    this.#queued = [];
    this.#queuedHead = 0;
    this.#streams.clear();
    // Told once the sandbox's state is that of a dead one: what they do next may look at it.
    for (const waiter of waiters) fail(waiter.events, waiter.started ? dead : queued);
    if (!kill) return;
    // A sandbox that crashed leaves nothing behind: its socket and files go with it.
    this.#sandbox.kill().catch(() => {})
      .then(() => Deno.remove(this.#dir, { recursive: true }).catch(() => {}));
  }

  /** Whether the sandbox can take inputs. */
  get alive(): boolean {
    return this.#dead === null;
  }

  /** Inputs running now. */
  get load(): number {
    return this.#inflight.size;
  }

  /**
   * Runs one input; rejects with {@linkcode SandboxDiedError} if the sandbox ends. With
   * `max`, the sandbox runs at most that many at once and queues the rest in order.
   */
  run(id: string, args: Uint8Array, options: SandboxRun): Promise<DoneMessage> {
    return new Promise((done, failed) =>
      this.start(id, args, options, { onStart: options.onStart, done, failed })
    );
  }

  /**
   * Runs one input and tells `events` what becomes of it ({@linkcode run} without a promise):
   * `failed` with {@linkcode SandboxDiedError} if the sandbox ends first (at once if it has).
   */
  start(id: string, args: Uint8Array, options: SandboxRun, events: RunEvents): void {
    const { fn, max, web } = options;
    if (this.#dead) return events.failed(this.#dead);
    const running = this.#inflight.size - (this.#queued.length - this.#queuedHead);
    const started = max === undefined || running < max;
    const waiter: InFlight = { started, events };
    this.#inflight.set(id, waiter);
    if (!started) this.#queued.push(id);
    this.#max = max;
    if (web) this.#streams.set(id, web.onMessage);
    // One object per input, its optional fields left out (a map's inputs pass by the thousand).
    const run: RunMessage = { t: "run", id, fn, args };
    if (web) run.web = true;
    if (max !== undefined) run.max = max;
    this.#writer.send(run);
    if (started) this.#parking.settle();
    if (started) events.onStart?.();
    // The sandbox went idle when its last result came (set as #pump reads it, or as it died).
  }

  /** `n` inputs finished in the sandbox: as many queued there start, in the order sent. */
  #startQueued(n: number): void {
    while (n > 0 && this.#queuedHead < this.#queued.length) {
      const waiter = this.#inflight.get(this.#queued[this.#queuedHead++]);
      if (!waiter) continue;
      waiter.started = true;
      n--;
      waiter.events.onStart?.();
    }
    if (this.#queuedHead === this.#queued.length) {
      this.#queued = [];
      this.#queuedHead = 0;
    }
  }

  /** Sends a web request's body chunk (none: the end) or credit to the sandbox. */
  sendWeb(msg: WebMessage): void {
    if (!this.#dead) this.#writer.send(msg);
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
    if (graceMs > 0) {
      const exited = new AbortController();
      await Promise.race([
        this.#sandbox.exited,
        this.#clock.sleep(graceMs, exited.signal).catch(() => {}),
      ]);
      exited.abort();
    }
    await this.#sandbox.kill();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Hands a result to its input's events. A fault there is reported as an uncaught error (as a
 * rejected promise nobody awaited was), instead of ending the loop that reads the sandbox.
 */
function deliver(events: RunEvents, msg: DoneMessage): void {
  try {
    events.done(msg);
  } catch (err) {
    reportError(err);
  }
}

/** Tells an input's events that its sandbox died, as {@linkcode deliver} tells a result. */
function fail(events: RunEvents, err: unknown): void {
  try {
    events.failed(err);
  } catch (fault) {
    reportError(fault);
  }
}

/**
 * The worker's side of one sandbox: listens on its unix socket, starts it
 * through a runner, waits until the bundle is loaded, then runs inputs over
 * the entrypoint protocol. If the sandbox ends, every input in it fails with
 * {@linkcode SandboxDiedError}.
 */
import { type DoneMessage, FrameWriter, readFrames } from "./_protocol.ts";
import type { Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";
import { SandboxDiedError, SandboxInitError } from "./errors.ts";

const START_TIMEOUT_MS = 120_000;

/** A started, ready sandbox. */
export class WarmSandbox {
  readonly id: string;
  readonly #sandbox: Sandbox;
  readonly #writer: FrameWriter;
  readonly #conn: Deno.Conn;
  readonly #dir: string;
  readonly #inflight = new Map<string, PromiseWithResolvers<DoneMessage>>();
  #dead: SandboxDiedError | null = null;
  /** When the sandbox last finished an input (for scale-down). */
  idleSinceMs = Date.now();

  private constructor(sandbox: Sandbox, conn: Deno.Conn, dir: string) {
    this.id = sandbox.id;
    this.#sandbox = sandbox;
    this.#conn = conn;
    this.#writer = new FrameWriter(conn.writable);
    this.#dir = dir;
  }

  /** Starts a sandbox and waits until it has loaded the bundle. */
  static async start(runner: Runner, spec: Omit<SandboxSpec, "socketDir">, rootDir: string): Promise<WarmSandbox> {
    const dir = `${rootDir}/${spec.sandboxId}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    const listener = Deno.listen({ transport: "unix", path: `${dir}/sock` });
    // Containers run as another user: it must be able to connect.
    await Deno.chmod(`${dir}/sock`, 0o777);
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await runner.start({ ...spec, socketDir: dir });
      const conn = await race(listener.accept(), sandbox.exited, "start");
      const warm = new WarmSandbox(sandbox, conn, dir);
      await warm.#handshake();
      return warm;
    } catch (err) {
      await sandbox?.kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw err;
    } finally {
      listener.close();
    }
  }

  async #handshake(): Promise<void> {
    const frames = readFrames(this.#conn.readable);
    const first = await race(frames.next(), this.#sandbox.exited, "load");
    const msg = first.done ? undefined : first.value[0];
    if (msg?.t === "init-failed") {
      throw new SandboxInitError(msg.error.name, msg.error.message, msg.error.stack);
    }
    if (msg?.t !== "ready") throw new SandboxDiedError("The sandbox closed before it was ready", false);
    this.#pump(frames);
  }

  async #pump(frames: AsyncGenerator<import("./_protocol.ts").ProtocolMessage[]>): Promise<void> {
    try {
      for await (const batch of frames) {
        for (const msg of batch) {
          if (msg.t !== "done") continue;
          const waiter = this.#inflight.get(msg.id);
          this.#inflight.delete(msg.id);
          waiter?.resolve(msg);
        }
      }
    } catch {
      // A broken socket: handled below like an exit.
    }
    const exit = await Promise.race([this.#sandbox.exited, delay(2_000).then(() => null)]);
    this.#die(exit);
  }

  #die(exit: SandboxExit | null): void {
    if (this.#dead) return;
    const oom = exit?.oom ?? false;
    const how = exit
      ? exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`
      : "closed its connection";
    this.#dead = new SandboxDiedError(oom ? "The sandbox ran out of memory" : `The sandbox ${how}`, oom);
    for (const waiter of this.#inflight.values()) waiter.reject(this.#dead);
    this.#inflight.clear();
    this.#sandbox.kill().catch(() => {});
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
  run(id: string, fn: string, args: Uint8Array): Promise<DoneMessage> {
    if (this.#dead) return Promise.reject(this.#dead);
    const waiter = Promise.withResolvers<DoneMessage>();
    this.#inflight.set(id, waiter);
    this.#writer.send({ t: "run", id, fn, args });
    return waiter.promise.finally(() => this.idleSinceMs = Date.now());
  }

  /** Kills the sandbox (a timeout, or scale-down) and removes its socket. */
  async stop(): Promise<void> {
    this.#die(null);
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.#sandbox.kill();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

async function race<T>(work: Promise<T>, exited: Promise<SandboxExit>, phase: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SandboxDiedError(`The sandbox did not ${phase} within ${START_TIMEOUT_MS / 1000} s`, false)),
      START_TIMEOUT_MS,
    );
  });
  const died = exited.then((exit): never => {
    throw new SandboxDiedError(
      exit.oom ? "The sandbox ran out of memory while starting" : `The sandbox ended while starting (exit code ${exit.code ?? exit.signal})`,
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

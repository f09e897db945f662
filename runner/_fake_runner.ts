/**
 * Test support: a {@linkcode Runner} whose sandboxes live in this process.
 * Each one connects to the worker's real unix socket and speaks the real
 * entrypoint protocol, but the test decides what every input prints and
 * returns, and when. Never used in production code.
 */
import { AsyncQueue } from "../proto/async_queue.ts";
import { create } from "../proto/deps.ts";
import { type FunctionDef, FunctionDefSchema } from "../proto/messages.ts";
import {
  type DoneMessage,
  FrameWriter,
  type NestedReplyMessage,
  readFrames,
  type RunMessage,
} from "./_protocol.ts";
import type { Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";

/** What a fake sandbox answers for one input. */
export type Answer = Omit<DoneMessage, "t" | "id">;

/** One input that reached a fake sandbox, waiting for the test to answer it. */
export interface PendingRun {
  message: RunMessage;
  sandbox: FakeSandbox;
  /** Sends the input's result. */
  answer(answer: Answer): void;
  /** Calls `method` from inside this input, as `fn.remote()` in a function would. */
  nested(method: string, req?: Record<string, unknown>): Promise<NestedReplyMessage>;
}

/** A sandbox of a {@linkcode FakeRunner}. */
export interface FakeSandbox extends Sandbox {
  readonly spec: SandboxSpec;
  /** Whether it was killed or exited. */
  readonly ended: boolean;
  /** Writes to its stdout (1) or stderr (2), as a user function would. */
  print(fd: 1 | 2, text: string): void;
  /** Ends it as if its process exited. */
  exit(exit: SandboxExit): void;
  /** Closes its socket but keeps it running (a wedged process). */
  disconnect(): void;
}

/** How a {@linkcode FakeRunner} behaves. */
export interface FakeRunnerOptions {
  /** Never connect to the worker (a sandbox stuck starting). @default false */
  hang?: boolean;
  /** Make every start fail with this error. */
  failStart?: Error;
  /** Answer each input at once instead of queuing it in {@linkcode FakeRunner.runs}. */
  autoAnswer?: (message: RunMessage) => Answer;
  /** What `cleanup()` (clearing dead workers' leftovers) does. @default resolves at once */
  cleanup?: () => Promise<void>;
}

/** A runner for unit tests of the worker, the pool and warm sandboxes. */
export class FakeRunner implements Runner {
  readonly name = "deno";
  readonly #options: FakeRunnerOptions;
  /** Every sandbox started, oldest first. */
  readonly started: FakeSandbox[] = [];
  /** Inputs the sandboxes received, in order. */
  readonly runs: AsyncQueue<PendingRun> = new AsyncQueue();
  readonly #runs = this.runs[Symbol.asyncIterator]();

  constructor(options: FakeRunnerOptions = {}) {
    this.#options = options;
  }

  /** The next input a sandbox received. */
  async nextRun(): Promise<PendingRun> {
    const next = await this.#runs.next();
    if (next.done) throw new Error("The fake runner stopped");
    return next.value;
  }

  /** Sandboxes not ended. */
  get alive(): number {
    return this.started.filter((s) => !s.ended).length;
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  cleanup(): Promise<void> {
    return this.#options.cleanup?.() ?? Promise.resolve();
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    if (this.#options.failStart) throw this.#options.failStart;
    const exited = Promise.withResolvers<SandboxExit>();
    let conn: Deno.UnixConn | undefined;
    let ended = false;
    const disconnect = () => {
      try {
        conn?.close();
      } catch {
        // Already closed.
      }
    };
    const end = (exit: SandboxExit) => {
      if (ended) return;
      ended = true;
      disconnect();
      exited.resolve(exit);
    };
    const sandbox: FakeSandbox = {
      id: spec.sandboxId,
      spec,
      exited: exited.promise,
      get ended() {
        return ended;
      },
      print: (fd, text) => spec.onOutput(fd, text),
      exit: end,
      disconnect,
      kill:
        () => (end({ code: null, signal: "SIGKILL", oom: false }), exited.promise.then(() => {})),
    };
    this.started.push(sandbox);
    if (!this.#options.hang) {
      conn = await Deno.connect({ transport: "unix", path: `${spec.socketDir}/sock` });
      this.#serve(sandbox, conn);
    }
    return sandbox;
  }

  async #serve(sandbox: FakeSandbox, conn: Deno.UnixConn): Promise<void> {
    const writer = new FrameWriter(conn);
    writer.send({ t: "ready", functions: [sandbox.spec.functionName] });
    const replies = new Map<number, (reply: NestedReplyMessage) => void>();
    let calls = 0;
    try {
      for await (const batch of readFrames(conn)) {
        for (const message of batch) {
          if (message.t === "nested-reply") replies.get(message.id)?.(message);
          if (message.t !== "run") continue;
          const answer = (a: Answer) => writer.send({ t: "done", id: message.id, ...a });
          const nested = (method: string, req: Record<string, unknown> = {}) => {
            const id = ++calls;
            writer.send({ t: "nested", id, input: message.id, method, req });
            return new Promise<NestedReplyMessage>((resolve) => replies.set(id, resolve));
          };
          if (this.#options.autoAnswer) answer(this.#options.autoAnswer(message));
          else this.runs.push({ message, sandbox, answer, nested });
        }
      }
    } catch {
      // Closed by kill().
    }
  }
}

/** A function definition with test defaults (no retries, a 60 s timeout, one input at a time). */
export function fakeDef(
  overrides: Parameters<typeof create<typeof FunctionDefSchema>>[1] = {},
): FunctionDef {
  return create(FunctionDefSchema, {
    name: "echo",
    timeoutMs: 60_000,
    memoryMib: 128,
    concurrency: 1,
    maxContainers: 4,
    minContainers: 0,
    scaledownWindowMs: 60_000,
    ...overrides,
  });
}

/**
 * The worker streams of this control plane: how it tells its workers that an
 * app stopped or was superseded, or that inputs were cancelled. Workers of
 * other control planes learn the same from their own (see {@linkcode AppWatch}).
 */
import { create } from "../proto/deps.ts";
import { type WorkerCommand, WorkerCommandSchema } from "../proto/messages.ts";
import type { AsyncQueue } from "../proto/async_queue.ts";
import { ShareBoard } from "./_share_board.ts";

/** What a worker should do with an app's containers. */
export type AppState = "live" | "stopped" | "drain";

/** How a stream describes new functions to its worker, and how much room the worker has. */
export interface StreamAhead {
  /** Describes functions ahead of their inputs; with `start`, their first containers start. */
  prefetch(functionIds: string[], start: boolean): void;
  /** Inputs the worker has asked for and not been given (0 while it drains). */
  room(): number;
}

/** Live worker streams on this control plane, to tell them about stopped apps. */
export class WorkerHub {
  /** Each stream's outgoing queue, with how it describes new functions to its worker. */
  readonly #streams = new Map<AsyncQueue<WorkerCommand>, StreamAhead | undefined>();
  /** The streams' cluster shares: allowances of containers and warm duties. */
  readonly board = new ShareBoard();

  /**
   * Registers a stream's outgoing queue, and how it describes new functions
   * to its worker; returns the function that removes them.
   */
  add(queue: AsyncQueue<WorkerCommand>, ahead?: StreamAhead): () => void {
    this.#streams.set(queue, ahead);
    return () => this.#streams.delete(queue);
  }

  /**
   * An app's functions were just stored: every worker hears of them now, so
   * that the first input finds their bundles downloaded (see
   * `FunctionCache.prefetch`). With `start` (a new ephemeral app, whose run
   * calls it at once), the worker on this control plane with the most unused
   * credit (input slots; its own free cores and memory decide whether a
   * container fits) also starts the first container of each that may start
   * early (up to `MAX_PRESTART`, see `proto/prestart.ts`): the first call finds
   * it starting or warm instead of starting it.
   */
  functionsStored(functionIds: string[], options: { start?: boolean } = {}): void {
    if (functionIds.length === 0) return;
    let starter: StreamAhead | undefined;
    if (options.start) {
      for (const ahead of this.#streams.values()) {
        if (ahead && ahead.room() > 0 && (!starter || ahead.room() > starter.room())) {
          starter = ahead;
        }
      }
    }
    for (const ahead of this.#streams.values()) ahead?.prefetch(functionIds, ahead === starter);
  }

  /** Tells every worker that an app stopped (or, with `drain`, was superseded). */
  appStopped(appId: string, drain = false): void {
    const cmd = create(WorkerCommandSchema, {
      msg: { case: "appStopped", value: { appId, drain } },
    });
    for (const q of this.#streams.keys()) q.push(cmd);
  }

  /**
   * These functions' app was just deployed or started: their min-warm duty
   * goes to one live worker now (see `_warm_duty.ts`), so the cluster keeps
   * each function's minContainers warm once, not once per worker.
   */
  warm(functionIds: string[]): void {
    if (functionIds.length > 0) this.board.appCreated();
  }

  /** Tells every worker to stop running these inputs (their calls were cancelled). */
  cancel(inputIds: string[]): void {
    if (inputIds.length === 0) return;
    const cmd = create(WorkerCommandSchema, { msg: { case: "cancel", value: { inputIds } } });
    for (const q of this.#streams.keys()) q.push(cmd);
  }
}

/**
 * What one work stream told its worker about the apps it runs, checked again
 * on each heartbeat: so a worker attached to this control plane learns of an
 * app stopped (or redeployed) through another control plane on the same store.
 */
export class AppWatch {
  readonly #told = new Map<string, AppState>();
  readonly #state?: (appId: string) => Promise<AppState>;
  readonly #send: (cmd: WorkerCommand) => void;

  /** `state` says what an app's containers should do; `send` reaches the worker. */
  constructor(
    state: ((appId: string) => Promise<AppState>) | undefined,
    send: (cmd: WorkerCommand) => void,
  ) {
    this.#state = state;
    this.#send = send;
  }

  /** The worker runs functions of this app. */
  note(appId: string): void {
    if (!this.#told.has(appId)) this.#told.set(appId, "live");
  }

  /** Tells the worker of apps that stopped or drain since it was last told. */
  async check(): Promise<void> {
    if (!this.#state) return;
    for (const [appId, told] of this.#told) {
      if (told === "stopped") continue;
      const state = await this.#state(appId);
      if (state === told) continue;
      this.#told.set(appId, state);
      if (state !== "live") {
        this.#send(create(WorkerCommandSchema, {
          msg: { case: "appStopped", value: { appId, drain: state === "drain" } },
        }));
      }
    }
  }
}

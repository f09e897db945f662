/**
 * The client half of one `Map` stream (the server half is
 * control/_map_stream.ts): sends inputs in batches as the caller's iterable
 * yields them and yields outputs as they finish. If the stream drops, it
 * reconnects to the same call, resends unacknowledged inputs and skips
 * outputs already received, so each output arrives once.
 */
import { Code, ConnectError, create } from "../proto/deps.ts";
import type { Client } from "../proto/deps.ts";
import {
  type ControlService,
  type MapRequest,
  MapRequestSchema,
  type Output,
} from "../proto/messages.ts";
import { decodeOutput } from "../proto/output_decode.ts";
import { clearStatus, progressBar, setStatus } from "./_progress.ts";
import { isTransient, sleep, translateError } from "./_rpc_errors.ts";
import { type EncodedInputs, inputReader } from "./_map_inputs.ts";

/** Inputs per `inputs` message: per-message cost dominates, so batch. */
const MAP_BATCH = 1024;
/**
 * The first message's inputs: a worker can start on them (fetch the function,
 * start a sandbox) while the rest are still stored. Each message after it
 * doubles, up to {@linkcode MAP_BATCH}.
 */
const FIRST_BATCH = 32;
/** Reconnection attempts in a row before the map fails. */
const MAX_ATTEMPTS = 30;

/** What {@linkcode mapStream} needs. */
export interface MapStreamOptions {
  /** The control plane's client. */
  client: Client<typeof ControlService>;
  /** For error messages. */
  serverUrl: string;
  /** The function to run. */
  functionId: string;
  /**
   * Encoded argument lists, one per input. A sync source is pulled a batch at a time without
   * awaiting each (an input it gives as a promise is awaited).
   */
  inputs: EncodedInputs;
  /** Shown on the progress line (e.g. `square.map`). */
  label: string;
  /** Waits until the logs written before outputs up to `logSeq` are printed. */
  logsBefore: (logSeq: number) => Promise<void>;
}

/** Streams inputs to a map and yields outputs as they finish, in completion order. */
export async function* mapStream(options: MapStreamOptions): AsyncGenerator<Output> {
  const { client, functionId, label } = options;
  const read = inputReader(options.inputs);
  const unacked = new Map<number, Uint8Array>();
  const have = new Set<number>();
  let sent = 0;
  let total: number | null = null;
  let callId = "";
  let attempt = 0;
  let inputError: { err: unknown } | undefined;
  setStatus(progressBar(label, 0, null), true);
  try {
    while (total === null || have.size < total) {
      const resume = [...unacked];
      const requests = async function* (): AsyncGenerator<MapRequest> {
        yield create(MapRequestSchema, {
          msg: { case: "start", value: { functionId, callId, haveIdx: callId ? [...have] : [] } },
        });
        for (const [idx, args] of resume) {
          yield create(MapRequestSchema, {
            msg: { case: "inputs", value: { startIdx: idx, args: [args] } },
          });
        }
        let size = FIRST_BATCH;
        while (total === null) {
          const batch: Uint8Array[] = [];
          const startIdx = sent;
          const limit = size;
          size = Math.min(MAP_BATCH, size * 2);
          while (batch.length < limit) {
            let args;
            try {
              args = read();
              if (args instanceof Promise) args = await args;
            } catch (err) {
              // The caller's iterable threw, or an input cannot be sent: the map fails with
              // that error, not with whatever the aborted stream reports.
              inputError = { err };
              throw err;
            }
            if (args === undefined) {
              total = sent;
              break;
            }
            batch.push(args);
            unacked.set(sent++, args);
          }
          if (batch.length) {
            yield create(MapRequestSchema, {
              msg: { case: "inputs", value: { startIdx, args: batch } },
            });
            // A turn of the event loop before the next batch, as a timer: the HTTP/2 connection
            // reads and writes only when the loop waits for one. A turn that never waits
            // (setImmediate, a resolved promise) left the stream unopened until every input was
            // encoded: a 20,000-input map's first output came ~130 ms late, its inputs' work on
            // the server waited for the last of them, and its outputs piled up there meanwhile.
            if (total === null) await new Promise((r) => setTimeout(r, 0));
          }
        }
        yield create(MapRequestSchema, { msg: { case: "end", value: { total } } });
      };
      try {
        for await (const res of client.map(requests())) {
          attempt = 0;
          if (res.callId) callId = res.callId;
          for (const idx of unacked.keys()) {
            if (idx < res.inputsAcked) unacked.delete(idx);
            else break;
          }
          if (res.outputs.length) await options.logsBefore(res.logSeq);
          for (const data of res.outputs) {
            const out = decodeOutput(data);
            if (have.has(out.idx)) continue;
            have.add(out.idx);
            yield out;
          }
          setStatus(progressBar(label, have.size, total));
        }
        if (total !== null && have.size < total) {
          throw new ConnectError("map stream ended early", Code.Unavailable);
        }
      } catch (err) {
        if (inputError) throw inputError.err;
        if (!callId || !isTransient(err) || ++attempt > MAX_ATTEMPTS) {
          throw translateError(err, options.serverUrl);
        }
        setStatus(`${label}  reconnecting to ${options.serverUrl}…`, true);
        await sleep(Math.min(200 * 2 ** attempt, 5_000));
      }
    }
  } finally {
    clearStatus();
  }
}

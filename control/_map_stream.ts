/**
 * One `Map` stream on the control plane: reads inputs with backpressure,
 * enqueues them, and streams outputs back as they finish; a reconnecting
 * client resumes the same call.
 */
import { Code, ConnectError, create } from "../proto/deps.ts";
import { type MapRequest, type MapResponse, MapResponseSchema } from "../proto/messages.ts";
import type { CallRecord, FunctionRecord, InputRecord, Store } from "./store/mod.ts";
import { isId } from "./_ids.ts";
import { invalid } from "./_validate.ts";

/** Quiet one-second waits between checks that the call record still exists. */
const CALL_CHECK_WAITS = 5;

/** What a map stream needs from the control service. */
export interface MapStreamOptions {
  /** Ends the stream. */
  signal: AbortSignal;
  /** Inputs that may wait unfinished before the server stops reading more. */
  maxPending: number;
  /** The function, if it exists and its app runs. */
  liveFunction: (id: string, current?: boolean) => Promise<FunctionRecord>;
  /** Records a new call. */
  newCall: (fn: FunctionRecord, total: number | null) => Promise<CallRecord>;
  /** Builds input `idx` of a call. */
  input: (call: CallRecord, idx: number, args: Uint8Array) => InputRecord;
}

/** Serves one `Map` stream: reads inputs with backpressure and streams outputs back. */
export async function* runMap(
  store: Store,
  requests: AsyncIterable<MapRequest>,
  options: MapStreamOptions,
): AsyncGenerator<MapResponse> {
  const { signal, maxPending, liveFunction, newCall, input } = options;
  const iter = requests[Symbol.asyncIterator]();
  const first = await iter.next();
  if (first.done || first.value.msg.case !== "start") invalid("a map stream must begin with start");
  const start = first.value.msg.value;
  let call: CallRecord;
  if (start.callId) {
    if (!isId(start.callId, "fc")) invalid(`"${start.callId}" is not a call id`);
    const found = await store.outputs.getCall(start.callId);
    // A map resumed after a redeploy stays on the version it started on.
    const fn = found && await liveFunction(found.functionId, false);
    const asked = await liveFunction(start.functionId, false).catch(() => undefined);
    if (!found || !fn || (fn.functionId !== start.functionId && fn.name !== asked?.name)) {
      throw new ConnectError(`No map call ${start.callId} for this function`, Code.NotFound);
    }
    call = found;
  } else {
    call = await newCall(await liveFunction(start.functionId), null);
  }
  const have = new Set(start.haveIdx);
  let total = call.total;
  let acked = 0;
  let enqueued = 0;
  let cursor = 0;
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  signal.addEventListener("abort", stop);
  let readerError: unknown;
  let ackDirty = true;
  let nudge = new AbortController();

  const reader = (async () => {
    try {
      for (let r = await iter.next(); !r.done; r = await iter.next()) {
        const msg = r.value.msg;
        if (msg.case === "inputs") {
          if (total !== null) invalid("inputs after end");
          const { startIdx, args } = msg.value;
          if (args.length === 0) continue;
          if (startIdx > 100_000_000) invalid("start_idx is out of range");
          await store.queue.enqueue(args.map((a, i) => input(call, startIdx + i, a)));
          enqueued += args.length;
          acked = Math.max(acked, startIdx + args.length);
          ackDirty = true;
          nudge.abort(); // the writer sends the ack now instead of after its wait
          while (enqueued - have.size > maxPending && !ctl.signal.aborted) {
            await store.outputs.waitOutputs(call.callId, {
              cursor,
              timeoutMs: 1_000,
              signal: ctl.signal,
            });
          }
        } else if (msg.case === "end") {
          if (msg.value.total < acked) invalid("end.total is smaller than the inputs sent");
          total = msg.value.total;
          await store.outputs.setCallTotal(call.callId, total);
        } else {
          invalid("unexpected message in a map stream: send inputs, then end");
        }
      }
    } catch (err) {
      readerError = err;
      ctl.abort();
    }
  })();

  let quietWaits = 0;
  try {
    yield create(MapResponseSchema, { callId: call.callId });
    while (total === null || have.size < total) {
      if (readerError) throw readerError;
      if (signal.aborted) return;
      const { outputs, cursor: next } = await store.outputs.readOutputs(call.callId, {
        cursor,
        max: 4096,
      });
      const skipped = next - cursor - outputs.length;
      if (skipped > 0 && have.size < next - outputs.length) {
        // Delivered outputs are released at once; a client that lost some in transit can't resume.
        throw new ConnectError(
          `Map call ${call.callId} lost outputs in transit that the server had already delivered and released: run the map again`,
          Code.DataLoss,
        );
      }
      cursor = next;
      const fresh: Uint8Array[] = [];
      const logSeq = outputs.length ? await store.logs.seq(call.appId) : 0;
      for (const rec of outputs) {
        if (have.has(rec.idx)) continue;
        have.add(rec.idx);
        fresh.push(rec.data);
      }
      if (fresh.length || ackDirty) {
        ackDirty = false;
        yield create(MapResponseSchema, {
          callId: call.callId,
          inputsAcked: acked,
          outputs: fresh,
          logSeq,
        });
        // Taken by the transport: the server holds them no longer.
        await store.outputs.release(call.callId, cursor);
      }
      if (outputs.length === 0) {
        const woken = nudge.signal;
        const wait = { cursor, timeoutMs: 1_000, signal: AbortSignal.any([ctl.signal, woken]) };
        await store.outputs.waitOutputs(call.callId, wait);
        if (woken.aborted) nudge = new AbortController();
        if (ctl.signal.aborted && !readerError) return;
        // Every few quiet seconds: is the call still there? A store that lost it (evicted,
        // flushed) would otherwise leave the client waiting for outputs that never come.
        if (++quietWaits % CALL_CHECK_WAITS === 0) {
          if (!(await store.outputs.getCall(call.callId))) {
            throw new ConnectError(
              `Map call ${call.callId} is gone from the server's store (evicted, flushed or expired), and its remaining inputs with it: run the map again`,
              Code.NotFound,
            );
          }
          // A word now and then keeps a stream waiting on slow inputs from looking idle.
          if (quietWaits % (CALL_CHECK_WAITS * 6) === 0) ackDirty = true;
        }
      } else quietWaits = 0;
    }
  } finally {
    signal.removeEventListener("abort", stop);
    ctl.abort();
    await reader;
  }
}

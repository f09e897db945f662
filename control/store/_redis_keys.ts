/**
 * Where the Redis store keeps what (`P` is the key prefix, `nm:` by default):
 *
 * Queue (`redis_call_queue.ts`):
 * - `P in`     hash   inputId -> input record (queued, leased or exhausted)
 * - `P q`      list   queued inputIds in FIFO order; may hold stale ids of
 *                     inputs finished while queued, which `lease` skips
 * - `P lease`  hash   inputId -> lease token `<workerId>:<nonce>.<n>`, or `!`
 *                     for an input past its infrastructure retry budget
 * - `P exp`    zset   leased inputId -> expiry (ms, from the injected clock)
 * - `P depth`  hash   functionId -> number of queued inputs
 * - `P sweeper`       string, the control plane that holds the sweeper role
 *
 * Outputs (`redis_output_store.ts`):
 * - `P calls`  zset   callId -> time of its last output (retention index)
 * - `P call:<id>` hash, `P out:<id>` list of output records, `P done:<id>`
 *   bitmap of finished output indexes (exactly-once outputs)
 *
 * Apps, blobs, logs, workers: `P apps` hash appId -> JSON, `P stopped` set,
 * `P stoppedms` zset stopped appId -> when it stopped (ephemeral apps are
 * forgotten a retention period later), `P fns` hash functionId -> record, `P blob:<hash>` (see
 * `redis_blob_store.ts`), `P blobused` zset hash -> when the blob was last
 * stored or asked for, `P logseq` hash appId -> latest log sequence
 * number, `P workers` hash workerId -> JSON.
 *
 * Schedules (`redis_tick_leases.ts`): `P tick:<functionId>`, the latest
 * claimed tick and when its claim ends, `<tickMs> <expiresMs>`.
 *
 * Channels: `P ev:in` (inputs queued), `P ev:out` (outputs or totals of the
 * call ids in the message changed), `P logs:<appId>` (`<seq>\n<batch>`).
 *
 * Records are `<json header>\n<bytes>` (see `_redis_codec.ts`); an input
 * header is `[inputId, callId, functionId, idx, infraAttempt]`.
 * @module
 */

/** Every fixed key and channel under a prefix. */
export interface KeyNames {
  /** The prefix itself. */
  prefix: string;
  inputs: string;
  queue: string;
  leases: string;
  expiries: string;
  depth: string;
  sweeper: string;
  calls: string;
  apps: string;
  stopped: string;
  stoppedMs: string;
  fns: string;
  blobUsed: string;
  workers: string;
  logSeq: string;
  inputsChannel: string;
  outputsChannel: string;
  logsChannelPrefix: string;
}

/** The key names under `prefix`. */
export function keyNames(prefix: string): KeyNames {
  return {
    prefix,
    inputs: `${prefix}in`,
    queue: `${prefix}q`,
    leases: `${prefix}lease`,
    expiries: `${prefix}exp`,
    depth: `${prefix}depth`,
    sweeper: `${prefix}sweeper`,
    calls: `${prefix}calls`,
    apps: `${prefix}apps`,
    stopped: `${prefix}stopped`,
    stoppedMs: `${prefix}stoppedms`,
    fns: `${prefix}fns`,
    blobUsed: `${prefix}blobused`,
    workers: `${prefix}workers`,
    logSeq: `${prefix}logseq`,
    inputsChannel: `${prefix}ev:in`,
    outputsChannel: `${prefix}ev:out`,
    logsChannelPrefix: `${prefix}logs:`,
  };
}

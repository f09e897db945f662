/**
 * The log bus: batches of log lines fan out to an app's followers on every
 * control plane sharing the store, numbered so a caller can tell which lines
 * came before a result.
 * @module
 */

/** Receives one batch (an encoded `StreamLogsResponse`) and its sequence number. */
export type LogListener = (data: Uint8Array, seq: number) => void;

/** Log fan-out per app. All methods are safe to call concurrently. */
export interface LogBus {
  /** Numbers a batch (1, 2, ... per app), sends it to the app's listeners, returns its number. */
  publish(appId: string, data: Uint8Array): Promise<number>;
  /** Calls `listener` for each batch published for the app; resolves to the unsubscribe function. */
  subscribe(appId: string, listener: LogListener): Promise<() => void>;
  /** The sequence number of the app's latest batch (0 if none). */
  seq(appId: string): Promise<number>;
}

/**
 * How the Redis store connects: ioredis options that fail commands
 * fast while Redis is down (and reconnect in the background), and errors that
 * say what to do.
 * @module
 */
import { Redis, type RedisOptions } from "../_deps.ts";

/** A Redis command failed because Redis could not be reached; retry once it is back. */
export class RedisUnavailableError extends Error {
  /** Always "RedisUnavailableError". */
  override name = "RedisUnavailableError";
}

const FAILED_CONNECTION =
  /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Stream isn't writeable/;

/** Opens a connection that reports outages once each, through `onOutage`. */
export function openConnection(url: string, onOutage?: (message: string) => void): Redis {
  const conn = new Redis(url, connectionOptions());
  let down = false;
  // Before the first connection the caller reports the failure itself, once.
  let wasReady = false;
  conn.on("error", (error: Error) => {
    if (!down && wasReady) {
      onOutage?.(`lost Redis at ${describeUrl(url)} (${error.message}); reconnecting`);
    }
    down = true;
  });
  conn.on("ready", () => {
    if (down && wasReady) onOutage?.(`reconnected to Redis at ${describeUrl(url)}`);
    down = false;
    wasReady = true;
  });
  return conn;
}

function connectionOptions(): RedisOptions {
  return {
    // Fail a command after a couple of reconnect attempts instead of queueing it forever.
    maxRetriesPerRequest: 2,
    retryStrategy: (times: number) => Math.min(times * 100, 1_000),
    connectTimeout: 5_000,
    enableAutoPipelining: true,
  };
}

/** Turns an ioredis connection failure into a {@linkcode RedisUnavailableError}. */
export function explainFailure(error: unknown, url: string): unknown {
  if (!(error instanceof Error)) return error;
  const retriesExhausted = error.name === "MaxRetriesPerRequestError" ||
    /max retries per request/i.test(error.message);
  if (!retriesExhausted && !FAILED_CONNECTION.test(error.message)) return error;
  const why = retriesExhausted ? "no connection" : error.message;
  return new RedisUnavailableError(
    `Redis at ${describeUrl(url)} is unreachable (${why}): check that it is ` +
      "running and that --redis points at it; nano-modal reconnects when it is back.",
    { cause: error },
  );
}

/** Quits politely if connected, else drops the socket and stops reconnecting. */
export async function closeConnection(conn: Redis): Promise<void> {
  if (conn.status === "ready") {
    try {
      await conn.quit();
      return;
    } catch {
      // fall through: drop the socket instead
    }
  }
  conn.disconnect();
}

/** Host and port only: the URL may carry a password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * The event log of `serve` and `worker`: one line per meaningful event (an
 * app created or stopped, a worker joined or left, an image built, a
 * container started or stopped, an input lost and run again), as text for
 * people or JSON for machines (`--log-format json`), or nothing (`--quiet`).
 * @module
 */

/** How events are written. */
export type EventLogFormat = "text" | "json";

/** Options for {@linkcode createEventLog}. */
export interface EventLogOptions {
  /** Text for people or JSON for machines. @default "text" */
  format?: EventLogFormat;
  /** Write nothing. @default false */
  quiet?: boolean;
  /** Where lines go. @default a line on stderr */
  write?: (line: string) => void;
  /** Milliseconds since the epoch, for the timestamp. @default Date.now */
  now?: () => number;
}

/** Writes events. */
export interface EventLog {
  /**
   * One event: `kind` is dotted (`app.created`), `text` the human line,
   * `fields` what a machine needs (ids, names, counts).
   */
  event(kind: string, text: string, fields?: Record<string, unknown>): void;
}

/** An event log that writes nothing. */
export const silentEventLog: EventLog = { event() {} };

/**
 * Creates an event log.
 *
 * @example
 * ```ts
 * import { createEventLog } from "./event_log.ts";
 * const log = createEventLog({ format: "json", write: (l) => console.log(l) });
 * log.event("app.created", 'app "demo" created', { app: "demo" });
 * ```
 */
export function createEventLog(options: EventLogOptions = {}): EventLog {
  if (options.quiet) return silentEventLog;
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  if (options.format === "json") {
    return {
      event(kind, text, fields = {}) {
        write(
          JSON.stringify({ time: new Date(now()).toISOString(), event: kind, ...fields, text }),
        );
      },
    };
  }
  return {
    event(_kind, text) {
      write(`${new Date(now()).toISOString()} ${text}`);
    },
  };
}

/** Parses `--log-format`; throws a `TypeError` naming the choices. */
export function eventLogFormat(value: string | boolean | undefined): EventLogFormat {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw new TypeError(`--log-format must be text or json, got "${value}"`);
}

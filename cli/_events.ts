/** `--log-format` and `--quiet`: the event log of `serve` and `worker`. */
import { createEventLog, type EventLog, eventLogFormat } from "../proto/mod.ts";
import { UsageError } from "./errors.ts";

/** The event log the flags ask for. */
export function eventLogFromFlags(values: Record<string, string | boolean | undefined>): EventLog {
  try {
    return createEventLog({ format: eventLogFormat(values["log-format"]), quiet: !!values.quiet });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

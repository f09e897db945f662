/** What a function's resolved options become on the wire (`FunctionDef` in `proto/nano_modal.proto`). */
import { create } from "../proto/deps.ts";
import { type FunctionDef, FunctionDefSchema, type ImageDef } from "../proto/messages.ts";
import type { ResolvedOptions } from "./_options.ts";

/** The definition of function `name` with options `o`, running in `image`. */
export function toFunctionDef(name: string, o: ResolvedOptions, image: ImageDef): FunctionDef {
  return create(FunctionDefSchema, {
    name,
    image,
    timeoutMs: o.timeoutMs,
    retries: { ...o.retries },
    memoryMib: o.memoryMiB,
    cpu: o.cpu,
    blockNetwork: o.blockNetwork,
    minContainers: o.minContainers,
    maxContainers: o.maxContainers,
    bufferContainers: o.bufferContainers,
    scaledownWindowMs: o.scaledownWindowMs,
    concurrency: o.concurrency,
    ...o.kind,
  });
}

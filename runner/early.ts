/**
 * The runner's second door, for a command's first milliseconds: what
 * `nano-modal run` uses before the rest of `runner/` (and dockerode, ~65 ms
 * of module loading) has loaded. It loads nothing heavy; everything else
 * goes through `mod.ts`.
 * @module
 */
export { dockerSocketPath, type EarlySpare, startEarlySpare } from "./docker/early_spare.ts";

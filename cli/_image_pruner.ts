/** A worker's image cleanup: every hour, images of its runner unused for a while go. */
import { DockerRunner, type Runner } from "../runner/mod.ts";
import type { EventLog } from "../proto/mod.ts";

const EVERY_MS = 3_600_000;

/** Prunes now and hourly when `runner` builds images; returns the function that stops it. */
export function pruneImagesEvery(
  runner: Runner,
  unusedForMs: number,
  events: EventLog,
): () => void {
  if (!(runner instanceof DockerRunner)) return () => {};
  const prune = async () => {
    try {
      for (const image of await runner.pruneImages(unusedForMs)) {
        events.event("image.pruned", `image ${image.tag} removed (unused)`, { image: image.tag });
      }
    } catch (err) {
      events.event("image.prune_failed", `pruning images failed: ${(err as Error).message}`, {});
    }
  };
  prune();
  const timer = setInterval(prune, EVERY_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

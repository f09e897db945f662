/** `nano-modal run` of an app with web endpoints and no local entrypoint. */
import type { WebEndpoint } from "./web_endpoint.ts";

/** Prints the endpoints' URLs, then waits for Ctrl-C (or SIGTERM). */
export async function serveUntilInterrupted(
  serverUrl: string,
  endpoints: WebEndpoint[],
): Promise<void> {
  for (const e of endpoints) console.log(`${e.name}: ${e.url(serverUrl)}`);
  console.error("Serving; press Ctrl-C to stop.");
  const stopped = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const stop = () => stopped.resolve();
  for (const s of signals) Deno.addSignalListener(s, stop);
  try {
    await stopped.promise;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
  }
}

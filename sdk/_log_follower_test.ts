import { ok, strictEqual } from "node:assert/strict";
import type { Client } from "../proto/deps.ts";
import type { ControlService } from "../proto/messages.ts";
import { LogFollower } from "./_log_follower.ts";

/** A stand-in for the control plane's StreamLogs: one batch, then the end once the app stops. */
function fakeClient(stopped: Promise<void>, opened: { count: number }) {
  return {
    async *streamLogs() {
      opened.count++;
      yield { seq: 1, lines: [] };
      await stopped;
    },
  } as unknown as Client<typeof ControlService>;
}

Deno.test("LogFollower.finish: a stream that ends before stopApp answers is the app's end, not a drop", async () => {
  const stop = Promise.withResolvers<void>();
  const opened = { count: 0 };
  const follower = new LogFollower(fakeClient(stop.promise, opened), "ap-test");
  await new Promise((r) => setTimeout(r, 20));
  // The server ends the log stream while handling the stop, before its answer arrives.
  stop.resolve();
  const answer = new Promise((r) => setTimeout(r, 30));
  const t = performance.now();
  await follower.finish(answer, 10_000);
  const took = performance.now() - t;
  ok(took < 2_000, `finish waited ${took.toFixed(0)} ms for a stream that had already ended`);
  strictEqual(opened.count, 1, "no reconnect after the app's end");
});

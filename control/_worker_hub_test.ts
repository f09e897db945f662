import { deepStrictEqual } from "node:assert/strict";
import { AsyncQueue } from "../proto/async_queue.ts";
import type { WorkerCommand } from "../proto/messages.ts";
import { WorkerHub } from "./_worker_hub.ts";

function stream(hub: WorkerHub, room: number) {
  const seen: { ids: string[]; start: boolean }[] = [];
  hub.add(new AsyncQueue<WorkerCommand>(), {
    prefetch: (ids, start) => seen.push({ ids, start }),
    room: () => room,
  });
  return seen;
}

Deno.test("WorkerHub: every worker hears of a new app; the one with the most room starts a run's containers", () => {
  const hub = new WorkerHub();
  const [a, b, drained] = [stream(hub, 2), stream(hub, 5), stream(hub, 0)];
  hub.functionsStored(["fu-1", "fu-2"], { start: true });
  deepStrictEqual(a, [{ ids: ["fu-1", "fu-2"], start: false }]);
  deepStrictEqual(b, [{ ids: ["fu-1", "fu-2"], start: true }]);
  deepStrictEqual(drained, [{ ids: ["fu-1", "fu-2"], start: false }]);
  // A deployed app's functions: described everywhere, started nowhere.
  hub.functionsStored(["fu-3"]);
  deepStrictEqual([a[1].start, b[1].start, drained[1].start], [false, false, false]);
});

Deno.test("WorkerHub: with no worker that has room, a run's containers start with its first input", () => {
  const hub = new WorkerHub();
  const busy = stream(hub, 0);
  hub.functionsStored(["fu-1"], { start: true });
  deepStrictEqual(busy, [{ ids: ["fu-1"], start: false }]);
});

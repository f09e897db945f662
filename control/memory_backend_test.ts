import { backendConformance } from "./backend_conformance.ts";
import { FakeClock } from "./_fake_clock.ts";
import { MemoryBackend } from "./memory_backend.ts";

backendConformance("memory", ({ retentionMs }) => {
  const clock = new FakeClock();
  const backend = new MemoryBackend({ clock, retentionMs });
  return Promise.resolve({ backend, clock, teardown: () => backend.close() });
});

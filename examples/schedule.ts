// Schedules: functions of a deployed app run by themselves. `nano-modal deploy
// examples/schedule.ts`; a `nano-modal run` only prints a notice.
import { App } from "@nano/modal";

const app = new App("schedule");

export const heartbeat = app.function(
  { schedule: { everyMs: 60_000 } },
  function heartbeat() {
    console.log(`alive at ${new Date().toISOString()}`);
  },
);

export const nightly = app.function(
  { schedule: { cron: "0 3 * * *", timezone: "Europe/Paris" } },
  function nightly() {
    console.log("nightly clean-up");
  },
);

app.localEntrypoint(async () => {
  await heartbeat.remote(); // a scheduled function can still be called
});

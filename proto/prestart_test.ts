import { strictEqual } from "node:assert/strict";
import { prestartable } from "./prestart.ts";

Deno.test("a function may start its first container early unless it mounts volumes, is a class, has minContainers or a schedule", () => {
  strictEqual(prestartable({}), true);
  strictEqual(prestartable({ volumes: [] }), true);
  strictEqual(prestartable({ volumes: [{ path: "/data" }] }), false);
  strictEqual(prestartable({ cls: { methods: [] } }), false);
  strictEqual(prestartable({ minContainers: 1 }), false, "its warm duty starts it");
  strictEqual(prestartable({ minContainers: 0 }), true);
  strictEqual(prestartable({ schedule: { cron: "* * * * *" } }), false);
});

import { strictEqual } from "node:assert/strict";
import { prestartable } from "./prestart.ts";

Deno.test("a function may start its first container early unless it mounts volumes or is a class", () => {
  strictEqual(prestartable({}), true);
  strictEqual(prestartable({ volumes: [] }), true);
  strictEqual(prestartable({ volumes: [{ path: "/data" }] }), false);
  strictEqual(prestartable({ cls: { methods: [] } }), false);
});

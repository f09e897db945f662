import { equal, ok } from "node:assert/strict";
import { createAuthCheck } from "./_auth.ts";
import { SecretService, VolumeService, WorkerService } from "../proto/messages.ts";

Deno.test("volume RPCs open to the cluster and the worker token; secrets only to the cluster's; GetSecretEnv only to workers", () => {
  const check = createAuthCheck({ token: "c", workerToken: "w" });
  const vol = `/${VolumeService.typeName}/GetVolumeTree`;
  const secret = `/${SecretService.typeName}/CreateSecret`;
  const env = `/${WorkerService.typeName}/GetSecretEnv`;
  equal(check(vol, "Bearer c"), undefined);
  equal(check(vol, "Bearer w"), undefined);
  ok(check(vol, "Bearer x"));
  ok(check(vol, null));
  equal(check(secret, "Bearer c"), undefined);
  ok(check(secret, "Bearer w"));
  equal(check(env, "Bearer w"), undefined);
  ok(check(env, "Bearer c"));
});

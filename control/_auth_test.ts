import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { createAuthCheck, refusalResponse, timingSafeEqual } from "./_auth.ts";

const CLIENT_RPC = "/nanomodal.v1.ControlService/Ping";
const WORKER_RPC = "/nanomodal.v1.WorkerService/Work";

Deno.test("timingSafeEqual() compares whole strings", () => {
  ok(timingSafeEqual("secret", "secret"));
  ok(!timingSafeEqual("secret", "secreT"));
  ok(!timingSafeEqual("secret", "secret2"));
  ok(!timingSafeEqual("", "x"));
});

Deno.test("createAuthCheck() with one token lets it into every RPC and refuses others", () => {
  const check = createAuthCheck({ token: "s3cret" });
  strictEqual(check(CLIENT_RPC, "Bearer s3cret"), undefined);
  strictEqual(check(WORKER_RPC, "Bearer s3cret"), undefined);
  for (const header of [null, "Bearer nope", "s3cret"]) {
    const refusal = check(CLIENT_RPC, header);
    strictEqual(refusal?.code, "unauthenticated");
    ok(/none was sent|token sent is not this server's/.test(refusal!.message));
  }
});

Deno.test("createAuthCheck() with a worker token keeps the two roles apart", () => {
  const check = createAuthCheck({ token: "client", workerToken: "worker" });
  strictEqual(check(CLIENT_RPC, "Bearer client"), undefined);
  strictEqual(check(WORKER_RPC, "Bearer worker"), undefined);
  match(check(WORKER_RPC, "Bearer client")!.message, /cluster token cannot act as a worker/);
  match(check(CLIENT_RPC, "Bearer worker")!.message, /only opens worker RPCs/);
  strictEqual(check(WORKER_RPC, null)?.code, "unauthenticated");
  ok(/worker token sent is not this server's/.test(check(WORKER_RPC, "Bearer nope")!.message));
});

Deno.test("createAuthCheck() without tokens lets everything in", () => {
  strictEqual(createAuthCheck({})(WORKER_RPC, null), undefined);
});

Deno.test("refusalResponse() is a JSON error for unary requests and an end-of-stream message for streams", async () => {
  const refusal = { code: "unauthenticated" as const, message: "no" };
  const unary = refusalResponse(refusal, "application/proto");
  strictEqual(unary.status, 401);
  deepStrictEqual(await unary.json(), refusal);
  const stream = refusalResponse(refusal, "application/connect+proto");
  strictEqual(stream.status, 200);
  const bytes = new Uint8Array(await stream.arrayBuffer());
  strictEqual(bytes[0], 0x02);
  deepStrictEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(5))), { error: refusal });
});

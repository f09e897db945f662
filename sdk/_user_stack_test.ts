import { equal, match, ok } from "node:assert/strict";
import { atCallSite, callSite } from "./_user_stack.ts";
import { RemoteError } from "./errors.ts";

/** Stands in for an SDK method: captures where it was called, fails after an await. */
async function sdkMethod(): Promise<never> {
  const site = callSite(sdkMethod);
  await Promise.resolve();
  throw atCallSite(new TypeError("the server went away"), site);
}

function userCode(): Promise<never> {
  return sdkMethod();
}

Deno.test("an SDK error's stack is the user's call site, formatted only when the error happens", async () => {
  const err = await userCode().catch((e) => e);
  const lines = String(err.stack).split("\n");
  equal(lines[0], "TypeError: the server went away");
  match(lines[1], /userCode .*_user_stack_test\.ts/, "starts at the user's frame");
  ok(!err.stack.includes("sdkMethod"), "no SDK frames");
});

Deno.test("a remote error keeps its own stack", () => {
  const remote = new RemoteError({
    name: "Error",
    message: "boom",
    stack: "Error: boom\n    at user.ts:1:1",
  });
  const before = remote.stack;
  equal(atCallSite(remote, callSite(userCode)), remote);
  equal(remote.stack, before);
});

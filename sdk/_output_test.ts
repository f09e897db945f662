import { ok, strictEqual } from "node:assert/strict";
import { create } from "../proto/deps.ts";
import { OutputSchema, ResultStatus } from "../proto/messages.ts";
import { encodeValue } from "../proto/payload.ts";
import { outputError } from "./_output.ts";
import { ImageBuildError, RemoteError } from "./mod.ts";

Deno.test("outputError() turns an image build failure into the exported ImageBuildError", () => {
  const out = create(OutputSchema, {
    status: ResultStatus.FAILURE,
    error: { name: "ImageBuildError", message: "step 2 (apt-get install nope) failed" },
  });
  const err = outputError(out, "f");
  ok(err instanceof ImageBuildError);
  strictEqual(err.message, "step 2 (apt-get install nope) failed");
});

Deno.test("outputError() keeps the remote exception's cause chain", () => {
  const thrown = new TypeError("fetch failed", { cause: new Error("refused") });
  const out = create(OutputSchema, {
    status: ResultStatus.FAILURE,
    error: { name: "TypeError", message: "fetch failed", value: encodeValue(thrown) },
  });
  const err = outputError(out, "f") as RemoteError;
  ok(err instanceof RemoteError);
  strictEqual((err.cause as Error).message, "refused");
  ok(err.stack?.endsWith("Caused by: Error: refused"));
});

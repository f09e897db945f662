import { ok, rejects, strictEqual } from "node:assert/strict";
import { Code, type ConnectError, createClient, createRouterTransport } from "../proto/mod.ts";
import { ControlService } from "../proto/messages.ts";
import { bearerAuth, timingSafeEqual } from "./_auth.ts";

Deno.test("timingSafeEqual() compares whole strings", () => {
  ok(timingSafeEqual("secret", "secret"));
  ok(!timingSafeEqual("secret", "secreT"));
  ok(!timingSafeEqual("secret", "secret2"));
  ok(!timingSafeEqual("", "x"));
});

Deno.test("bearerAuth() rejects missing and wrong tokens with unauthenticated, and passes the right one", async () => {
  const transport = (header?: string) =>
    createRouterTransport(({ service }) => {
      service(ControlService, { ping: () => ({ version: "t", backend: "memory" }) });
    }, {
      router: { interceptors: [bearerAuth("s3cret")] },
      transport: {
        interceptors: header
          ? [(next) => (req) => (req.header.set("authorization", header), next(req))]
          : [],
      },
    });
  for (const header of [undefined, "Bearer nope", "s3cret"]) {
    await rejects(
      () => createClient(ControlService, transport(header)).ping({}),
      (e: ConnectError) => e.code === Code.Unauthenticated && /NANO_MODAL_TOKEN/.test(e.rawMessage),
    );
  }
  strictEqual(
    (await createClient(ControlService, transport("Bearer s3cret")).ping({})).version,
    "t",
  );
});

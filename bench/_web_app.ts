// The web bench's app: one trivial endpoint, served by `nano-modal run` until stopped.
import { App } from "@nano/modal";

const app = new App("webbench");

export const ok = app.webEndpoint(function ok(_req: Request) {
  return new Response("ok");
});

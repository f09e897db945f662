// Web endpoints: `nano-modal run examples/web.ts` prints their URLs and serves them
// until Ctrl-C. Try: curl "$URL/hello/ada?greeting=hi", curl -d '{"n":2}' "$URL_ECHO".
import { App } from "@nano/modal";

const app = new App("web");

export const hello = app.webEndpoint(function hello(req: Request) {
  const url = new URL(req.url); // the path below /web/web/hello, and the query
  const name = url.pathname.split("/")[2] ?? "world";
  return new Response(`${url.searchParams.get("greeting") ?? "hello"} ${name}\n`);
});

export const echo = app.webEndpoint({ name: "echo" }, async (req: Request) => {
  return Response.json({ method: req.method, got: await req.json().catch(() => null) });
});

// A streamed response: each line reaches the client as it is produced.
export const ticks = app.webEndpoint(function ticks() {
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (n === 5) return controller.close();
      await new Promise((r) => setTimeout(r, 300));
      controller.enqueue(new TextEncoder().encode(`data: tick ${n++}\n\n`));
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
});

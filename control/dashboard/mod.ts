/**
 * The operator's view on the control plane's port: the dashboard at `/`
 * (apps, functions, workers, recent calls, volumes and secrets by name, live
 * log tails at `/logs/<app id>`), its data as JSON at `/api/snapshot`, and
 * Prometheus metrics at `/metrics`. When the server has a token, a browser
 * logs in once through `/?token=...` (an HttpOnly, SameSite=Strict cookie);
 * `/metrics` also takes `Authorization: Bearer <token>`.
 * @module
 */
import { fromBinary } from "../../proto/deps.ts";
import { StreamLogsResponseSchema } from "../../proto/messages.ts";
import { Session } from "./_session.ts";
import { type DashboardSource, snapshot } from "./_snapshot.ts";
import { renderLogin, renderLogs, renderMain, renderPage } from "./_render.ts";

export type {
  AppView,
  CallView,
  DashboardSource,
  FunctionView,
  Snapshot,
  WorkerView,
} from "./_snapshot.ts";
export { dashboardKey } from "./_session.ts";

/** Options for {@linkcode createWebConsole}. */
export interface WebConsoleOptions {
  /** Apps, workers and live figures. */
  source: DashboardSource;
  /** The server's client token; without one, anyone who reaches the port may look. */
  token?: string;
  /** Shown in the page header. */
  version: string;
  /** The Prometheus text for `/metrics`. */
  metrics: () => Promise<{ body: string; contentType: string }>;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** Serves one request if it is the console's; `undefined` lets the caller route it. */
export type WebConsole = (req: Request) => Promise<Response> | undefined;

const HTML = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
const SECURITY = {
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};

function html(body: string, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...HTML, ...SECURITY, ...extra } });
}

/** Whether `path` belongs to the console (everything else is RPCs and web endpoints). */
function ours(path: string): boolean {
  return path === "/" || path === "/metrics" || path === "/api/snapshot" ||
    path.startsWith("/logs/");
}

/**
 * Creates the console's request handler.
 *
 * @example
 * ```ts ignore
 * const console_ = createWebConsole({ source, token, version: "0.1.0", metrics });
 * const handler = (req: Request) => console_(req) ?? rpc(req);
 * ```
 */
export function createWebConsole(options: WebConsoleOptions): WebConsole {
  const session = new Session(options.token);
  const now = options.now ?? Date.now;
  return (req) => {
    // Every RPC passes here first: a POST is never the console's, and goes on unparsed.
    if (req.method !== "GET" && req.method !== "HEAD") return undefined;
    const url = new URL(req.url);
    if (!ours(url.pathname)) return undefined;
    return serve(req, url);
  };

  async function serve(req: Request, url: URL): Promise<Response> {
    const login = url.searchParams.get("token");
    if (url.pathname === "/" && login !== null) {
      if (!(await session.matches(login))) return html(renderLogin(), 401);
      // The token leaves the address bar (and history) at once.
      return new Response(null, {
        status: 303,
        headers: { location: "/", "set-cookie": await session.setCookie(), ...SECURITY },
      });
    }
    if (!(await session.allows(req))) {
      if (url.pathname === "/") return html(renderLogin(), 401);
      return new Response(
        "unauthorized: send Authorization: Bearer <token> (the server's token), or log in at /?token=...\n",
        { status: 401, headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY } },
      );
    }
    if (url.pathname === "/metrics") {
      const { body, contentType } = await options.metrics();
      return new Response(body, { headers: { "content-type": contentType } });
    }
    if (url.pathname === "/api/snapshot") {
      return Response.json(await snapshot(options.source, now()), {
        headers: { "cache-control": "no-store" },
      });
    }
    if (url.pathname.startsWith("/logs/")) return await logs(req, url.pathname.slice(6));
    const snap = await snapshot(options.source, now());
    if (url.searchParams.has("fragment")) return html(renderMain(snap));
    return html(renderPage(snap, options.version));
  }

  async function logs(req: Request, rest: string): Promise<Response> {
    const [appId, tail] = rest.split("/");
    const app = /^[\w-]{1,64}$/.test(appId) ? await options.source.store.apps.getApp(appId) : null;
    if (!app) return html(`<p>No app with id ${appId.replace(/[^\w-]/g, "")}</p>`, 404);
    if (tail !== "stream") return html(renderLogs(app.appId, app.name));
    const enc = new TextEncoder();
    let unsubscribe: (() => void) | undefined;
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        ctl.enqueue(enc.encode(": tail of the app's logs from now on\n\n"));
        unsubscribe = await options.source.store.logs.subscribe(app.appId, (data) => {
          try {
            for (const line of fromBinary(StreamLogsResponseSchema, data).lines) {
              const event = { function: line.functionName, fd: line.fd, text: line.text };
              ctl.enqueue(enc.encode(`data: ${JSON.stringify(event)}\n\n`));
            }
          } catch {
            // A closed stream or an undecodable batch: nothing to tail.
          }
        });
        req.signal.addEventListener("abort", () => unsubscribe?.());
      },
      cancel() {
        unsubscribe?.();
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store", ...SECURITY },
    });
  }
}

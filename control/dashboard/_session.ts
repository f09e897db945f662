/**
 * Who may see the dashboard and `/metrics`: a login URL `/?token=...` turns
 * the server token into an HttpOnly, SameSite=Strict cookie holding a value
 * derived from it (it opens the dashboard, never an RPC); `/metrics` also
 * takes the token as a bearer header, as Prometheus sends it.
 *
 * The login URL `serve` prints carries a *dashboard key* instead of the token:
 * derived from it, it opens the dashboard and `/metrics` but no RPC, so the
 * server's log never holds a credential that can run code.
 * @module
 */
import { timingSafeEqual } from "../_auth.ts";
import { toHex } from "../../proto/content_hash.ts";

/** The cookie's name. */
export const COOKIE = "nano_modal_session";

async function derive(purpose: string, token: string): Promise<string> {
  const bytes = new TextEncoder().encode(`nano-modal ${purpose}\0${token}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return toHex(digest);
}

/** The cookie value for `token`: a hash, so the cookie cannot call RPCs. */
export function sessionValue(token: string): Promise<string> {
  return derive("dashboard session", token);
}

/**
 * The dashboard key of `token`: what the printed login URL carries. It logs a
 * browser in (and opens `/metrics`) but no RPC accepts it.
 */
export function dashboardKey(token: string): Promise<string> {
  return derive("dashboard key", token);
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Decides whether a request may see the dashboard. */
export class Session {
  readonly #token: string | undefined;
  readonly #session: Promise<string | undefined>;
  readonly #key: Promise<string | undefined>;

  /** `token`: the server's client token; none lets everyone in. */
  constructor(token: string | undefined) {
    this.#token = token;
    this.#session = token ? sessionValue(token) : Promise.resolve(undefined);
    this.#key = token ? dashboardKey(token) : Promise.resolve(undefined);
  }

  /** Whether a token is required at all. */
  get required(): boolean {
    return this.#token !== undefined;
  }

  /** Whether the request carries the session cookie or the bearer token. */
  async allows(req: Request): Promise<boolean> {
    if (!this.#token) return true;
    const bearer = req.headers.get("authorization");
    if (bearer && await this.matches(bearer.replace(/^Bearer /, ""))) return true;
    const got = cookie(req, COOKIE);
    return got !== undefined && timingSafeEqual(got, (await this.#session)!);
  }

  /** Whether `token` (from a login URL or a bearer header) is the server's token or its key. */
  async matches(token: string): Promise<boolean> {
    if (this.#token === undefined) return false;
    const isToken = timingSafeEqual(token, this.#token);
    const isKey = timingSafeEqual(token, (await this.#key)!);
    return isToken || isKey;
  }

  /** The `Set-Cookie` header that logs a browser in. */
  async setCookie(): Promise<string> {
    return `${COOKIE}=${await this.#session}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

// End-to-end: the dashboard in a real headless Chromium (Debian's `chromium`, driven by
// puppeteer-core), /metrics with the bearer token, and the event lines `serve` prints.
import { match, ok, strictEqual } from "node:assert/strict";
import { puppeteer } from "./_deps.ts";
import { check, ROOT, runCli, runDeno, startServe } from "./_cli.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOT = Deno.env.get("NANO_MODAL_DASHBOARD_SHOT") ?? "/tmp/nano-modal-dashboard.png";

Deno.test({
  name: "log in through the printed URL, see a deployed app and its functions, see a call appear",
  ignore: !(() => {
    try {
      return Deno.statSync(CHROMIUM).isFile;
    } catch {
      return false;
    }
  })(),
  // puppeteer keeps a websocket and timers of its own until the browser closes.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const token = `dash-${crypto.randomUUID()}`;
    const env = { NANO_MODAL_TOKEN: token };
    const { proc, url } = await startServe(["--with-workers", "--runner", "deno"], { env });
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--window-size=1280,1000"],
    });
    try {
      const login = proc.stderr.match(/dashboard: (\S+)/)?.[1];
      ok(login, `serve prints a login URL:\n${proc.stderr}`);
      ok(login.startsWith(`${url}/?token=`), login);
      ok(!proc.stderr.includes(token), "the log holds a dashboard key, never the token");
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 1000 });

      // Without the cookie: 401 and a page that says how to log in.
      const refused = await page.goto(`${url}/`);
      strictEqual(refused?.status(), 401);
      match(await page.$eval("body", (b) => b.textContent ?? ""), /needs the server's token/);

      // The login URL sets an HttpOnly, SameSite=Strict cookie and lands on / without the token.
      await page.goto(login);
      strictEqual(new URL(page.url()).search, "", "the token leaves the address bar");
      match(await page.$eval("header", (h) => h.textContent ?? ""), /nano-modal/);
      const [cookie] = await page.cookies();
      strictEqual(cookie?.httpOnly, true);
      strictEqual(cookie?.sameSite, "Strict");
      ok(!cookie.value.includes(token), "the cookie is not the token itself");

      const deployed = await runCli(["deploy", "examples/deploy.ts", "--server", url], { env });
      check(deployed.code === 0, "deploy exits 0", deployed);
      // The page refreshes itself: the app and both functions appear without a reload.
      await page.waitForFunction(
        `(() => {
          const text = document.querySelector("#apps")?.textContent ?? "";
          return ["words", "countWord", "wordCount"].every((w) => text.includes(w));
        })()`,
        { timeout: 15_000 },
      );
      const call = await runDeno(
        [
          "run",
          "-A",
          `${ROOT}tests/fixtures/lookup_client.ts`,
          "remote",
          "words",
          "wordCount",
          '["to be or not to be"]',
        ],
        { env: { ...env, NANO_MODAL_SERVER: url }, timeoutMs: 90_000 },
      );
      check(call.code === 0, "the call succeeds", call);
      await page.waitForFunction(
        `[...document.querySelectorAll("#calls tr.call")].some((r) =>
          r.textContent.includes("wordCount") && r.textContent.includes("success"))`,
        { timeout: 15_000 },
      );
      const row = await page.$eval(
        '#apps tr[data-function="countWord"]',
        (r) => [...r.querySelectorAll("td")].map((td) => td.textContent?.trim()),
      );
      strictEqual(row[0], "countWord");
      ok(Number(row[4]) >= 4, `countWord succeeded once per word: ${row}`);
      await page.screenshot({ path: SHOT, fullPage: true });

      // /metrics: refused without the token, Prometheus text with it.
      strictEqual(
        await fetch(`${url}/metrics`).then(async (r) => (await r.body?.cancel(), r.status)),
        401,
      );
      const metrics = await (await fetch(`${url}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      })).text();
      match(
        metrics,
        /nano_modal_calls_total\{app="words",function="wordCount",status="success"\} 1/,
      );
      match(
        metrics,
        /nano_modal_calls_total\{app="words",function="countWord",status="success"\} 4/,
      );
      match(
        metrics,
        /nano_modal_call_duration_seconds_count\{app="words",function="countWord"\} 4/,
      );
      match(metrics, /nano_modal_workers 1/);

      // The key from the log opens /metrics but no RPC.
      const key = new URL(login).searchParams.get("token")!;
      strictEqual(
        await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } }).then(
          async (r) => (await r.body?.cancel(), r.status),
        ),
        200,
      );
      const rpc = await fetch(`${url}/nanomodal.v1.ControlService/Ping`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{}",
      });
      await rpc.body?.cancel();
      strictEqual(rpc.status, 401, "the dashboard key opens no RPC");
      // The server's own token works as a login URL too.
      const other = await browser.newPage();
      await other.goto(`${url}/?token=${token}`);
      strictEqual(new URL(other.url()).pathname, "/");
      match(await other.$eval("main", (m) => m.textContent ?? ""), /words/);

      // The event lines serve printed along the way.
      match(proc.stderr, /worker \S+ joined \(/);
      match(proc.stderr, /app "words" created \(\S+, deployed, 2 functions\)/);
      match(proc.stderr, /container \S+ started \(words\.wordCount\)/);
    } finally {
      await browser.close();
      await proc.stop();
    }
  },
});

Deno.test("serve --log-format json prints one JSON object per event; --quiet prints none", async () => {
  const json = await startServe(["--with-workers", "--runner", "deno", "--log-format", "json"]);
  try {
    const r = await runCli(["run", "--server", json.url, "examples/hello.ts"]);
    check(r.code === 0, "run exits 0", r);
    await json.proc.waitFor(/"event":"app.stopped"/, 15_000);
    const events = json.proc.stderr.split("\n").filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const kinds = events.map((e) => e.event);
    for (const kind of ["worker.joined", "worker.connected", "app.created", "container.started"]) {
      ok(kinds.includes(kind), `${kind} in ${kinds}`);
    }
    const created = events.find((e) => e.event === "app.created");
    strictEqual(created.app, "hello");
    strictEqual(created.ephemeral, true);
    ok(!Number.isNaN(Date.parse(created.time)));
  } finally {
    await json.proc.stop();
  }
  const quiet = await startServe(["--with-workers", "--runner", "deno", "--quiet"]);
  try {
    const r = await runCli(["run", "--server", quiet.url, "examples/hello.ts"]);
    check(r.code === 0, "run exits 0", r);
    ok(!/app "hello" created|worker \S+ joined/.test(quiet.proc.stderr), quiet.proc.stderr);
  } finally {
    await quiet.proc.stop();
  }
});

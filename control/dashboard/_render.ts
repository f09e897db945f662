/**
 * The dashboard's HTML, rendered on the server. The page's little script
 * fetches `/?fragment=1` every two seconds and swaps the `<main>` in: one
 * renderer, no build step, no client framework.
 * @module
 */
import type { AppView, Snapshot } from "./_snapshot.ts";

/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

function ms(n: number): string {
  if (!n) return "–";
  if (n < 0.1) return "<0.1 ms";
  return n < 1000 ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : `${(n / 1000).toFixed(2)} s`;
}

function ago(nowMs: number, thenMs: number): string {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  return s < 60
    ? `${s}s ago`
    : s < 3600
    ? `${Math.round(s / 60)}m ago`
    : `${Math.round(s / 3600)}h ago`;
}

function appRows(app: AppView): string {
  const head = `<tr class="app"><th colspan="8">${
    esc(app.name)
  } <span class="badge ${app.state}">${app.state}</span>
    <span class="muted">${app.kind}${app.version ? ` · v${esc(app.version)}` : ""} · ${
    esc(app.appId)
  }</span>
    <a href="/logs/${encodeURIComponent(app.appId)}">logs</a></th></tr>`;
  const fns = app.functions.map((f) =>
    `<tr data-function="${esc(f.name)}"><td class="fn">${
      esc(f.name)
    }</td><td>${f.queued}</td><td>${f.running}</td>
    <td>${f.callsPerMinute}</td><td class="ok">${f.success}</td><td class="${
      f.failure ? "bad" : ""
    }">${f.failure}</td>
    <td>${ms(f.p50Ms)}</td><td>${ms(f.p99Ms)}</td></tr>`
  ).join("");
  return head + fns;
}

/** The `<main>` part: what the script refreshes. */
export function renderMain(s: Snapshot): string {
  const c = s.containers;
  const apps = s.apps.length
    ? s.apps.map(appRows).join("")
    : `<tr><td colspan="8" class="muted">No apps yet: <code>nano-modal run app.ts --server …</code> or <code>nano-modal deploy app.ts</code></td></tr>`;
  const workers = s.workers.length
    ? s.workers.map((w) =>
      `<tr><td>${esc(w.workerId)}</td><td>${esc(w.hostname)}</td><td>${esc(w.runner)}</td>
      <td>${w.busy} / ${w.capacity}</td><td>${ago(s.nowMs, w.lastSeenMs)}</td></tr>`
    ).join("")
    : `<tr><td colspan="5" class="muted">No workers connected: start one with <code>nano-modal worker --server …</code></td></tr>`;
  const calls = s.calls.length
    ? s.calls.map((call) =>
      `<tr class="call"><td>${new Date(call.timeMs).toISOString().slice(11, 23)}</td><td>${
        esc(call.app)
      }</td>
      <td>${esc(call.function)}</td><td><span class="badge ${esc(call.status)}">${
        esc(call.status)
      }</span></td>
      <td>${ms(call.durationMs)}</td><td class="muted">${esc(call.callId)}</td>
      <td><a href="/logs/${encodeURIComponent(call.appId)}">logs</a></td></tr>`
    ).join("")
    : `<tr><td colspan="7" class="muted">No calls yet.</td></tr>`;
  const list = (items: string[], what: string) =>
    items.length
      ? items.map((n) => `<li>${esc(n)}</li>`).join("")
      : `<li class="muted">No ${what}.</li>`;
  return `<main>
<section class="tiles">
  <div><b>${s.apps.filter((a) => a.state === "running").length}</b>apps running</div>
  <div><b>${s.workers.length}</b>workers</div>
  <div><b>${
    c.busy + c.idle + c.starting
  }</b>containers <span class="muted">(${c.busy} busy, ${c.idle} idle, ${c.starting} starting)</span></div>
  <div><b>${
    s.apps.reduce((n, a) => n + a.functions.reduce((m, f) => m + f.queued, 0), 0)
  }</b>inputs queued</div>
</section>
<h2>Apps and functions</h2>
<table id="apps"><tr><th>function</th><th>queued</th><th>running</th><th>calls/min</th><th>ok</th><th>failed</th><th>p50</th><th>p99</th></tr>${apps}</table>
<h2>Recent calls</h2>
<table id="calls"><tr><th>time (UTC)</th><th>app</th><th>function</th><th>status</th><th>duration</th><th>call</th><th></th></tr>${calls}</table>
<h2>Workers</h2>
<table id="workers"><tr><th>worker</th><th>host</th><th>runner</th><th>busy</th><th>heartbeat</th></tr>${workers}</table>
<div class="two">
<div><h2>Volumes</h2><ul id="volumes">${list(s.volumes, "volumes")}</ul></div>
<div><h2>Secrets</h2><ul id="secrets">${list(s.secrets, "secrets")}</ul></div>
</div>
</main>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0} header span{opacity:.7}
main{padding:8px 24px 32px;max-width:1200px}
h2{font-size:15px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0001}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #eceef2;font-variant-numeric:tabular-nums}
tr.app th{background:#eef1f6;font-weight:600} td.fn{padding-left:24px;font-family:ui-monospace,monospace}
.muted{color:#7a8294;font-weight:normal} .ok{color:#207a3c} .bad{color:#b3261e;font-weight:600}
.badge{font-size:12px;padding:1px 7px;border-radius:9px;background:#e4e7ee}
.badge.running,.badge.success{background:#d8f0de;color:#1c6b34} .badge.failure,.badge.timeout,.badge.internal{background:#fbdcd9;color:#9b1c14}
.tiles{display:flex;gap:12px;margin-top:14px} .tiles div{background:#fff;padding:10px 16px;box-shadow:0 1px 2px #0001;min-width:140px}
.tiles b{display:block;font-size:22px}
.two{display:flex;gap:24px} .two>div{flex:1} ul{background:#fff;margin:0;padding:8px 28px;box-shadow:0 1px 2px #0001}
a{color:#2956b2} code{background:#eef1f6;padding:0 4px}
#live{margin-left:auto;font-size:12px}`;

/** The whole dashboard page. */
export function renderPage(s: Snapshot, version: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>nano-modal</title>
<style>${STYLE}</style></head><body>
<header><h1>nano-modal</h1><span>control plane ${
    esc(version)
  }</span><span id="live">live</span></header>
${renderMain(s)}
<script>
// Refresh the server-rendered <main> every two seconds.
async function refresh() {
  const live = document.getElementById("live");
  try {
    const res = await fetch("/?fragment=1", { cache: "no-store" });
    if (!res.ok) throw new Error(res.status);
    document.querySelector("main").outerHTML = await res.text();
    live.textContent = "live · " + new Date().toLocaleTimeString();
  } catch (e) {
    live.textContent = "disconnected (" + e.message + ")";
  }
}
setInterval(refresh, 2000);
</script></body></html>`;
}

/** The page a browser without a session sees (status 401). */
export function renderLogin(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>nano-modal: log in</title>
<style>${STYLE} main{max-width:640px}</style></head><body><header><h1>nano-modal</h1></header><main>
<h2>This dashboard needs the server's token</h2>
<p>Open the login URL that <code>nano-modal serve</code> printed when it started
(<code>dashboard: http://HOST:PORT/?token=…</code>). It sets a cookie for this browser and brings you back here.</p>
<p>Or add <code>?token=</code> and the server's token to this address: it is in
<code>~/.config/nano-modal/token</code> of the user running the server, or the one given with
<code>--token</code> / <code>NANO_MODAL_TOKEN</code>.</p></main></body></html>`;
}

/** A live tail of an app's logs (server-sent events from `/logs/<app>/stream`). */
export function renderLogs(appId: string, appName: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${
    esc(appName)
  } logs · nano-modal</title>
<style>${STYLE} pre{background:#11151c;color:#d6dae3;padding:12px;min-height:60vh;white-space:pre-wrap;font:12px/1.45 ui-monospace,monospace}</style>
</head><body><header><h1>nano-modal</h1><span>logs of ${esc(appName)} (${
    esc(appId)
  })</span><a href="/" style="color:#fff">← dashboard</a><span id="live">connecting…</span></header>
<main><pre id="out"></pre></main>
<script>
const out = document.getElementById("out");
const live = document.getElementById("live");
const source = new EventSource(location.pathname + "/stream");
source.onopen = () => live.textContent = "live";
source.onerror = () => live.textContent = "reconnecting…";
source.onmessage = (e) => {
  const line = JSON.parse(e.data);
  out.append("[" + line.function + "] " + line.text + (line.text.endsWith("\\n") ? "" : "\\n"));
  window.scrollTo(0, document.body.scrollHeight);
};
</script></body></html>`;
}

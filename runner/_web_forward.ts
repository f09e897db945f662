/**
 * The worker's side of a queued web request (the fallback when the control
 * plane that received it has no direct stream to this worker, see
 * `_web_direct.ts`). That control plane holds the request open and gives the
 * input a channel URL (a capability: it names one request and carries a
 * random secret). The worker reads the request body from `<channel>/body`
 * and forwards it to the sandbox within the sandbox's credit; the sandbox's
 * response head and chunks go back as the streaming body of a POST to
 * `<channel>/response`, credited to the sandbox as the upload takes them.
 * Nothing is buffered whole, so a streamed response reaches the client as it
 * is produced, and any control plane may serve a request that another one's
 * worker runs. While the handler runs, `<channel>/gone` tells the worker if
 * the client left first; the handler's `req.signal` then aborts.
 */
import { CreditStream, CreditWindow, pieces } from "../proto/credit_stream.ts";
import { ResultStatus } from "../proto/messages.ts";
import { encodeValue } from "../proto/payload.ts";
import type { FunctionInfo } from "./_functions.ts";
import type { Outcome } from "./_execute.ts";
import type { Deadlines } from "./_deadlines.ts";
import type { WebMessage } from "./_protocol.ts";
import type { WebHead } from "./_web_input.ts";
import { runWeb } from "./_web_run.ts";

/** The head of a web input as the control plane sends it: the sandbox's head and the channel. */
export interface WebInputHead extends WebHead {
  channel: string;
}

/** Runs one queued web input. */
export async function runWebInput(
  fn: FunctionInfo,
  input: { inputId: string; idx: number; args: Uint8Array },
  deadlines: Deadlines,
): Promise<Outcome> {
  const { channel, ...head } = JSON.parse(new TextDecoder().decode(input.args)) as WebInputHead;
  const id = input.inputId;
  let responding: Promise<void> | undefined;
  let body: CreditStream | undefined;
  let send: (msg: WebMessage) => void = () => {};
  let status = 0;
  const window = new CreditWindow();
  const over = new AbortController();
  const outcome = await runWeb(fn, { inputId: id, idx: input.idx, head, deadlines }, {
    head(code, headers) {
      status = code;
      body = new CreditStream(
        (bytes) => send({ t: "credit", id, bytes }),
        () => send({ t: "credit", id, bytes: -1 }),
      );
      responding = fetch(`${channel}/response`, {
        method: "POST",
        headers: { "x-nm-status": String(code), "x-nm-headers": JSON.stringify(headers) },
        body: body.readable,
      }).then((res) => res.body?.cancel()).catch(() => send({ t: "credit", id, bytes: -1 }));
    },
    chunk: (chunk) => body?.push(chunk),
    end: (failed) => body?.end(failed ? new Error("The handler failed") : undefined),
    credit: (bytes) => window.grant(bytes),
    started(to) {
      send = to;
      if (head.hasBody) forwardBody(channel, { id, send, window });
      watchGone(channel, over.signal, () => send({ t: "credit", id, bytes: -1 }));
    },
  });
  over.abort();
  await responding;
  window.close();
  // The stored result of a queued web call is its status, as for any call.
  if (outcome !== "requeue" && outcome.status === ResultStatus.SUCCESS) {
    outcome.payload = encodeValue(status);
  }
  return outcome;
}

/** Streams the request body from the control plane into the sandbox, within its credit. */
async function forwardBody(
  channel: string,
  to: { id: string; send: (msg: WebMessage) => void; window: CreditWindow },
): Promise<void> {
  const { id, send, window } = to;
  try {
    const res = await fetch(`${channel}/body`);
    if (res.body) {
      for await (const chunk of res.body) {
        for (const piece of pieces(chunk)) {
          if (!await window.spend(piece.byteLength)) throw new Error("The request ended");
          send({ t: "body", id, chunk: piece });
        }
      }
    }
  } catch {
    // The client left, or the handler finished: end the body where it stopped.
  }
  send({ t: "body", id });
}

/** Calls `onGone` if the control plane says the client left before its response. */
async function watchGone(channel: string, signal: AbortSignal, onGone: () => void) {
  try {
    const res = await fetch(`${channel}/gone`, { signal });
    if (res.status === 200 && (await res.text()).trim() === "gone") onGone();
    else await res.body?.cancel();
  } catch {
    // The request ended (or the control plane went away): nothing to stop.
  }
}

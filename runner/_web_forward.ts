/**
 * The worker's side of a web request. The control plane that received the
 * request holds it open and gives the input a channel URL (a capability: it
 * names one request and carries a random secret). The worker reads the
 * request body from `<channel>/body` and forwards it to the sandbox in
 * chunks; the sandbox's response head and chunks go back as the streaming
 * body of a POST to `<channel>/response`. Nothing is buffered whole, so a
 * streamed response reaches the client as it is produced, and any control
 * plane may serve a request that another one's worker runs.
 */
import { create } from "../proto/deps.ts";
import { type Output, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { FunctionInfo } from "./_functions.ts";
import type { Outcome } from "./_execute.ts";
import type { Deadlines } from "./_deadlines.ts";
import { failure, failureOf } from "./_execute.ts";
import type { BodyMessage, HeadMessage } from "./_protocol.ts";
import type { WebHead } from "./_web_input.ts";
import type { WarmSandbox } from "./_warm_sandbox.ts";

/** The head of a web input as the control plane sends it: the sandbox's head and the channel. */
export interface WebInputHead extends WebHead {
  channel: string;
}

/** Runs one web input: no user retries (its body can be read only once). */
export async function runWebInput(
  fn: FunctionInfo,
  input: { inputId: string; idx: number; args: Uint8Array },
  deadlines: Deadlines,
): Promise<Outcome> {
  const { channel, ...head } = JSON.parse(new TextDecoder().decode(input.args)) as WebInputHead;
  const name = fn.def.name;
  let responding: Promise<void> | undefined;
  let body: ReadableStreamDefaultController<Uint8Array> | undefined;
  let timedOut = false;
  const respond = (status: number, headers: [string, string][], data: BodyInit | null) => {
    responding = fetch(`${channel}/response`, {
      method: "POST",
      headers: { "x-nm-status": String(status), "x-nm-headers": JSON.stringify(headers) },
      body: data,
    }).then((res) => res.body?.cancel()).catch(() => {});
  };
  const onMessage = (msg: HeadMessage | BodyMessage) => {
    if (msg.t === "head") {
      const stream = new ReadableStream<Uint8Array>({ start: (c) => void (body = c) });
      respond(msg.status, msg.headers, stream);
    } else {
      try {
        if (msg.chunk) body?.enqueue(msg.chunk);
        else body?.close();
      } catch {
        // The control plane hung up (the client left).
      }
    }
  };
  const short = (status: number, text: string) => {
    if (responding) {
      try {
        body?.error(new Error(text));
      } catch {
        // Already ended.
      }
    } else respond(status, [["content-type", "text/plain; charset=utf-8"]], text);
  };
  try {
    const sandboxHead = new TextEncoder().encode(JSON.stringify(head));
    const onSandbox = (sandbox: WarmSandbox) => {
      deadlines.set(input.inputId, fn.def.timeoutMs, () => {
        timedOut = true;
        fn.pool.kill(sandbox);
      });
      if (head.hasBody) forwardBody(channel, sandbox, input.inputId);
    };
    const done = await fn.pool.run(input.inputId, sandboxHead, {
      onSandbox,
      web: { onMessage },
    });
    if (done.ok) {
      await responding;
      return output(input.idx, ResultStatus.SUCCESS, done.ms, done.payload ?? new Uint8Array());
    }
    const e = done.error!;
    fn.pool.spec.onOutput(
      2,
      `Web endpoint ${name} failed: ${e.stack || `${e.name}: ${e.message}`}\n`,
    );
    short(500, "Internal Server Error");
    await responding;
    return create(OutputSchema, {
      idx: input.idx,
      status: ResultStatus.FAILURE,
      error: { name: e.name, message: e.message, stack: e.stack, value: e.value },
      durationMs: done.ms,
    });
  } catch (err) {
    if (timedOut) {
      short(504, "Gateway Timeout");
      await responding;
      return failure(input.idx, ResultStatus.TIMEOUT, {
        name: "FunctionTimeoutError",
        message:
          `${name} timed out after ${fn.def.timeoutMs} ms: raise timeoutMs in app.webEndpoint({ timeoutMs }) if it needs longer`,
      });
    }
    const outcome = failureOf(err, { def: fn.def, idx: input.idx });
    if (outcome !== "requeue") {
      short(500, "Internal Server Error");
      await responding;
    }
    return outcome;
  } finally {
    deadlines.clear(input.inputId);
  }
}

function output(idx: number, status: ResultStatus, ms: number, payload: Uint8Array): Output {
  return create(OutputSchema, { idx, status, payload, durationMs: ms });
}

/** Streams the request body from the control plane into the sandbox. */
async function forwardBody(channel: string, sandbox: WarmSandbox, id: string): Promise<void> {
  try {
    const res = await fetch(`${channel}/body`);
    if (res.body) { for await (const chunk of res.body) sandbox.sendBody(id, chunk); }
  } catch {
    // The client left: end the body where it stopped.
  }
  sandbox.sendBody(id);
}

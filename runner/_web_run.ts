/**
 * One web request in a warm sandbox, whichever way it reached the worker (a
 * queued input with an HTTP channel, `_web_forward.ts`, or a frame on the
 * direct web stream, `_web_direct.ts`): the sandbox's response head and body
 * go to a {@linkcode WebSink}, the request body and the response's credit go
 * into the sandbox once the input starts there, and a failure becomes a short
 * 500 or 504 when no head was sent yet. Web inputs get no user retries (their
 * body can be read only once).
 */
import { create } from "../proto/deps.ts";
import { type Output, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { FunctionInfo } from "./_functions.ts";
import type { Deadlines } from "./_deadlines.ts";
import { failure, failureOf, type Outcome } from "./_execute.ts";
import type { WebMessage } from "./_protocol.ts";
import type { WebHead } from "./_web_input.ts";
import type { WarmSandbox } from "./_warm_sandbox.ts";

/** Where a web request's response goes, and how its request body gets in. */
export interface WebSink {
  /** The response's status and headers. */
  head(status: number, headers: [string, string][]): void;
  /** A piece of the response body; the sink credits the sandbox as its reader takes it. */
  chunk(chunk: Uint8Array): void;
  /** The response is complete; `failed`: it broke off after its head. */
  end(failed?: boolean): void;
  /** The sandbox took this many more bytes of the request body. */
  credit(bytes: number): void;
  /** The input started in a sandbox: `send` reaches it (body chunks, response credit). */
  started(send: (msg: WebMessage) => void): void;
}

const TEXT: [string, string][] = [["content-type", "text/plain; charset=utf-8"]];

/** Runs one web request; resolves with its outcome once the response is complete. */
export async function runWeb(
  fn: FunctionInfo,
  input: { inputId: string; idx: number; head: WebHead; deadlines: Deadlines },
  sink: WebSink,
): Promise<Outcome> {
  const { inputId, idx, deadlines } = input;
  const name = fn.def.name;
  let headSent = false;
  let ended = false;
  let timedOut = false;
  const onMessage = (msg: WebMessage) => {
    if (msg.t === "head") {
      headSent = true;
      sink.head(msg.status, msg.headers);
      if (!msg.body) return;
      if (msg.body.byteLength) sink.chunk(msg.body);
      ended = true;
      sink.end();
    } else if (msg.t === "credit") sink.credit(msg.bytes);
    else if (msg.chunk) sink.chunk(msg.chunk);
    else if (!ended) {
      ended = true;
      sink.end();
    }
  };
  const short = (status: number, text: string) => {
    if (ended) return;
    ended = true;
    if (headSent) return sink.end(true);
    sink.head(status, TEXT);
    sink.chunk(new TextEncoder().encode(`${text}\n`));
    sink.end();
  };
  try {
    const sandboxHead = new TextEncoder().encode(JSON.stringify(input.head));
    const onSandbox = (sandbox: WarmSandbox) => {
      deadlines.set(inputId, fn.def.timeoutMs, () => {
        timedOut = true;
        fn.pool.kill(sandbox);
      });
      sink.started((msg) => sandbox.sendWeb(msg));
    };
    const done = await fn.pool.run(inputId, sandboxHead, { onSandbox, web: { onMessage } });
    if (done.ok) {
      short(500, "Internal Server Error"); // only if the handler never answered
      return output(idx, ResultStatus.SUCCESS, done.ms, done.payload ?? new Uint8Array());
    }
    const e = done.error!;
    fn.pool.spec.onOutput(
      2,
      `Web endpoint ${name} failed: ${e.stack || `${e.name}: ${e.message}`}\n`,
      inputId,
    );
    short(500, "Internal Server Error");
    return create(OutputSchema, {
      idx,
      status: ResultStatus.FAILURE,
      error: { name: e.name, message: e.message, stack: e.stack, value: e.value },
      durationMs: done.ms,
    });
  } catch (err) {
    if (timedOut) {
      short(504, "Gateway Timeout");
      return failure(idx, ResultStatus.TIMEOUT, {
        name: "FunctionTimeoutError",
        message:
          `${name} timed out after ${fn.def.timeoutMs} ms: raise timeoutMs in app.webEndpoint({ timeoutMs }) if it needs longer`,
      });
    }
    const outcome = failureOf(err, { def: fn.def, idx });
    if (outcome !== "requeue") short(500, "Internal Server Error");
    return outcome;
  } finally {
    deadlines.clear(inputId);
  }
}

function output(idx: number, status: ResultStatus, ms: number, payload: Uint8Array): Output {
  return create(OutputSchema, { idx, status, payload, durationMs: ms });
}

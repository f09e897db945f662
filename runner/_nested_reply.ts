/**
 * Answers a call made from inside a sandbox (a function calling another) with
 * the worker's handler, and sends the result or error back over the socket.
 */
import type { FrameWriter, NestedHandler, NestedMessage } from "./_protocol.ts";

/**
 * Runs `msg` through `handler` and replies on `writer`; without a handler, replies with an
 * error. Resolves once the reply is sent (never rejects).
 */
export function answerNested(
  msg: NestedMessage,
  handler: NestedHandler | undefined,
  writer: FrameWriter,
): Promise<void> {
  const answer = handler
    ? handler(msg.input, msg.method, msg.req)
    : Promise.reject(new Error("This worker does not take calls from inside functions"));
  return answer.then(
    (res) => writer.send({ t: "nested-reply", id: msg.id, res }),
    (err) => {
      const code = (err as { codeName?: string }).codeName ?? "Internal";
      const message = String((err as Error)?.message ?? err);
      writer.send({ t: "nested-reply", id: msg.id, error: { code, message } });
    },
  );
}

import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { BIN_TAG, decodeFrame, encodeFrame, JSON_TAG, V8_TAG } from "./_frame_codec.ts";
import type { ProtocolMessage } from "./_protocol.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

/** Encodes, checks the length prefix, decodes. */
function roundTrip(group: ProtocolMessage[]): { tag: number; back: ProtocolMessage[] } {
  const frame = encodeFrame(group);
  strictEqual(new DataView(frame.buffer).getUint32(0), frame.length - 4, "length prefix");
  return { tag: frame[4], back: decodeFrame(frame.subarray(4)) };
}

/**
 * Checks that `group`, whose first message is a run of arguments 1, 2, 3, travels as `tag` and
 * decodes to the same messages, its byte arrays copies that do not view the frame.
 */
function checkRoundTrip(group: ProtocolMessage[], tag: number): void {
  const trip = roundTrip(group);
  strictEqual(trip.tag, tag);
  deepStrictEqual(trip.back, group);
  const frame = encodeFrame(group);
  const decoded = decodeFrame(frame.subarray(4)) as unknown as { args: Uint8Array }[];
  frame.fill(0, 5);
  deepStrictEqual(decoded[0].args, bytes(1, 2, 3));
}

Deno.test("every input's messages travel as JSON with their byte arrays apart, unchanged", () => {
  const group = [
    { t: "run", id: "in-1", fn: "f", args: bytes(1, 2, 3), max: 4, web: true },
    { t: "done", id: "in-1", ok: true, payload: bytes(9), ms: 0.25, sync: 7 },
    {
      t: "done",
      id: "in-2",
      ok: false,
      ms: 1,
      error: { name: "TypeError", message: "bad \u{1F600} \ud800", stack: "at x", value: bytes(5) },
    },
    { t: "head", id: "in-3", status: 200, headers: [["a", "b"], ["c", "d"]], body: bytes() },
    { t: "body", id: "in-3", chunk: bytes(0, 255) },
    { t: "credit", id: "in-3", bytes: 65536 },
    { t: "ready", functions: ["f", "g"] },
    { t: "init-failed", error: { name: "Error", message: "m", stack: "" } },
    { t: "volume", id: "v1", op: "commit", name: "data" },
    { t: "volume-done", id: "v1", error: "no space" },
  ] as unknown as ProtocolMessage[];
  checkRoundTrip(group, JSON_TAG);
});

Deno.test("a frame of runs and successful results is binary records, and decodes to the same messages", () => {
  const group = [
    { t: "run", id: "fc-1:0", fn: "square", args: bytes(1, 2, 3), max: 1 },
    { t: "run", id: "fc-1:1", fn: "sqé", args: bytes() },
    { t: "run", id: "fc-1:2", fn: "web", args: bytes(9), max: 4_294_967_295, web: true },
    { t: "done", id: "fc-1:0", ok: true, payload: bytes(4, 5), ms: 0.123456789 },
    { t: "done", id: "fc-1:1", ok: true, ms: 2, sync: 7 },
    { t: "done", id: "fc-1:2", ok: false, ms: -0, payload: bytes() },
  ] as unknown as ProtocolMessage[];
  checkRoundTrip(group, BIN_TAG);
  // Cut short anywhere, it is refused rather than read past its end.
  const frame = encodeFrame(group);
  for (const cut of [6, 9, 20, frame.length - 1]) {
    throws(() => decodeFrame(encodeFrame(group).subarray(4, cut)), RangeError);
  }
});

Deno.test("a frame with anything but runs and successful results stays JSON", () => {
  const failed = [
    { t: "run", id: "fc-1:0", fn: "f", args: bytes(1) },
    { t: "done", id: "fc-1:0", ok: false, ms: 1, error: { name: "E", message: "m", stack: "" } },
  ] as unknown as ProtocolMessage[];
  strictEqual(roundTrip(failed).tag, JSON_TAG);
  deepStrictEqual(roundTrip(failed).back, failed);
  const credit = [
    { t: "run", id: "fc-1:0", fn: "f", args: bytes(1) },
    { t: "credit", id: "fc-1:0", bytes: 1 },
  ] as unknown as ProtocolMessage[];
  strictEqual(roundTrip(credit).tag, JSON_TAG);
  // An id too long for a record's 16-bit length, or a max past 32 bits: JSON too.
  const long = [{ t: "run", id: "x".repeat(70_000), fn: "f", args: bytes() }];
  strictEqual(roundTrip(long as unknown as ProtocolMessage[]).tag, JSON_TAG);
  deepStrictEqual(roundTrip(long as unknown as ProtocolMessage[]).back, long);
  const big = [{ t: "run", id: "i", fn: "f", args: bytes(), max: 2 ** 32 }];
  strictEqual(roundTrip(big as unknown as ProtocolMessage[]).tag, JSON_TAG);
});

Deno.test("a frame holding a nested call's request or reply is V8-serialized: any value goes", () => {
  const group = [
    { t: "run", id: "in-1", fn: "f", args: bytes(1) },
    {
      t: "nested",
      id: 1,
      input: "in-1",
      method: "call",
      req: { functionId: "fu-1", args: bytes(7), deep: { n: 10n, list: [bytes(8)] } },
    },
    { t: "nested-reply", id: 1, res: { output: bytes(2), when: new Date(0) } },
  ] as unknown as ProtocolMessage[];
  const { tag, back } = roundTrip(group);
  strictEqual(tag, V8_TAG);
  deepStrictEqual(back, group);
});

Deno.test("a frame of an unknown kind is refused", () => {
  throws(() => decodeFrame(bytes(7, 0, 0, 0, 0)), /unknown kind 7/);
});

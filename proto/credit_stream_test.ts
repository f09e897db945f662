import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { CHUNK_BYTES, CreditStream, CreditWindow, pieces } from "./credit_stream.ts";

Deno.test("CreditStream credits each chunk only as its reader takes it", async () => {
  const credited: number[] = [];
  const body = new CreditStream((bytes) => credited.push(bytes));
  body.push(new Uint8Array(3));
  body.push(new Uint8Array(5));
  deepStrictEqual(credited, []);
  const reader = body.readable.getReader();
  strictEqual((await reader.read()).value?.length, 3);
  deepStrictEqual(credited, [3]);
  body.end();
  strictEqual((await reader.read()).value?.length, 5);
  strictEqual((await reader.read()).done, true);
  deepStrictEqual(credited, [3, 5]);
});

Deno.test("CreditStream hands its reader the sender's error after what arrived", async () => {
  const body = new CreditStream(() => {});
  body.push(new Uint8Array(1));
  body.end(new Error("broke off"));
  const reader = body.readable.getReader();
  strictEqual((await reader.read()).value?.length, 1);
  let error = "";
  await reader.read().catch((e) => error = e.message);
  strictEqual(error, "broke off");
});

Deno.test("CreditStream tells the sender when its reader cancels", async () => {
  let cancelled = false;
  const body = new CreditStream(() => {}, () => cancelled = true);
  await body.readable.cancel();
  strictEqual(cancelled, true);
  strictEqual(body.cancelled, true);
});

Deno.test("CreditWindow makes a sender wait once the window is spent, until credit comes", async () => {
  const window = new CreditWindow(10);
  strictEqual(window.trySpend(10), true);
  strictEqual(window.trySpend(1), false);
  let sent = false;
  const waiting = window.spend(4).then((ok) => sent = ok);
  await new Promise((r) => setTimeout(r, 5));
  strictEqual(sent, false);
  window.grant(4);
  await waiting;
  strictEqual(sent, true);
});

Deno.test("CreditWindow.close() releases a waiting sender with false", async () => {
  const window = new CreditWindow(0);
  const waiting = window.spend(1);
  window.close();
  strictEqual(await waiting, false);
});

Deno.test("pieces() splits a large chunk into copies of at most CHUNK_BYTES", () => {
  const big = new Uint8Array(CHUNK_BYTES * 2 + 1);
  const parts = [...pieces(big)];
  deepStrictEqual(parts.map((p) => p.length), [CHUNK_BYTES, CHUNK_BYTES, 1]);
  strictEqual(parts.every((p) => p.byteOffset === 0 && p.buffer.byteLength === p.length), true);
  const small = new Uint8Array(4);
  strictEqual([...pieces(small)][0], small);
});

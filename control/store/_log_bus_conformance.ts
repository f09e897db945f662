/** The `LogBus` contract, as cases every store runs. */
import { deepStrictEqual, equal } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";

/** Cases of `store.logs`. */
export const LOG_BUS_CASES: Record<string, Case> = {
  "publish() numbers batches per app and reaches its subscribers until they unsubscribe": async (
    { store },
  ) => {
    const seenA: [Uint8Array, number][] = [];
    const seenOther: Uint8Array[] = [];
    let deliver: (batch: [Uint8Array, number]) => void = () => {};
    const stopA = await store.logs.subscribe("app-1", (d, seq) => seenA.push([d, seq]));
    const stopB = await store.logs.subscribe("app-1", (d, seq) => deliver([d, seq]));
    const stopOther = await store.logs.subscribe("app-2", (d) => seenOther.push(d));
    const next = () => new Promise<[Uint8Array, number]>((r) => deliver = r);
    equal(await store.logs.seq("app-1"), 0);
    let got = next();
    equal(await store.logs.publish("app-1", new Uint8Array([1, 0, 10])), 1);
    deepStrictEqual(await got, [new Uint8Array([1, 0, 10]), 1]);
    stopA();
    got = next();
    equal(await store.logs.publish("app-1", new Uint8Array([2])), 2);
    deepStrictEqual(await got, [new Uint8Array([2]), 2]);
    // Messages arrive in order on one subscription, so A would have seen [2] by now.
    deepStrictEqual(seenA, [[new Uint8Array([1, 0, 10]), 1]]);
    deepStrictEqual(seenOther, []);
    equal(await store.logs.seq("app-1"), 2);
    equal(await store.logs.seq("app-2"), 0);
    stopB();
    stopOther();
  },
};

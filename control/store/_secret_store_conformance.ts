/**
 * The contract of a {@linkcode SecretStore}, as tests every implementation runs.
 * @module
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";
import type { SecretRecord } from "./secret_store.ts";

function record(name: string, sealed: number[], ms: number): SecretRecord {
  return {
    name,
    keys: ["A", "B"],
    sealed: new Uint8Array(sealed),
    createdMs: ms,
    updatedMs: ms,
  };
}

/** Cases of `store.secrets`. */
export const SECRET_STORE_CASES: Record<string, Case> = {
  "a stored secret reads back byte for byte": async ({ store: s }) => {
    const store = s.secrets;
    ok(await store.putSecret(record("api", [0, 1, 255, 7], 10), false));
    const got = await store.getSecret("api");
    deepStrictEqual(got, record("api", [0, 1, 255, 7], 10));
    equal(await store.getSecret("other"), undefined);
  },

  "an existing name is kept unless replacing, and replacing keeps the creation time": async (
    { store: s },
  ) => {
    const store = s.secrets;
    ok(await store.putSecret(record("api", [1], 10), false));
    equal(await store.putSecret(record("api", [2], 20), false), false);
    deepStrictEqual((await store.getSecret("api"))?.sealed, new Uint8Array([1]));
    ok(await store.putSecret({ ...record("api", [3], 30), keys: ["C"] }, true));
    const got = await store.getSecret("api");
    deepStrictEqual(got?.sealed, new Uint8Array([3]));
    deepStrictEqual(got?.keys, ["C"]);
    equal(got?.createdMs, 10);
    equal(got?.updatedMs, 30);
  },

  "listings are sorted by name and never carry sealed values": async ({ store: s }) => {
    const store = s.secrets;
    await store.putSecret(record("b", [1], 1), false);
    await store.putSecret(record("a", [2], 2), false);
    const list = await store.listSecrets();
    deepStrictEqual(list.map((s) => s.name), ["a", "b"]);
    for (const s of list) equal((s as Partial<SecretRecord>).sealed, undefined);
    deepStrictEqual(list[0], { name: "a", keys: ["A", "B"], createdMs: 2, updatedMs: 2 });
  },

  "delete removes a secret and says whether it existed": async ({ store: s }) => {
    const store = s.secrets;
    await store.putSecret(record("a", [1], 1), false);
    ok(await store.deleteSecret("a"));
    equal(await store.deleteSecret("a"), false);
    equal(await store.getSecret("a"), undefined);
    deepStrictEqual(await store.listSecrets(), []);
  },

  "concurrent creates of one name store exactly one": async ({ store: s }) => {
    const store = s.secrets;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.putSecret(record("race", [i], i), false)),
    );
    equal(results.filter(Boolean).length, 1);
  },
};

import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { SecretCipher, SecretKeyError } from "./secret_cipher.ts";

Deno.test("SecretCipher seals values so that the bytes hold no plaintext, and opens them", async () => {
  const cipher = await SecretCipher.fromBytes(new Uint8Array(32).fill(7));
  const sealed = await cipher.seal("api", { TOKEN: "hunter2-value" });
  ok(!new TextDecoder().decode(sealed).includes("hunter2"));
  deepStrictEqual(await cipher.open("api", sealed), { TOKEN: "hunter2-value" });
});

Deno.test("SecretCipher refuses a sealed value under another name or key", async () => {
  const cipher = await SecretCipher.fromBytes(new Uint8Array(32).fill(7));
  const sealed = await cipher.seal("api", { A: "1" });
  await rejects(cipher.open("other", sealed), SecretKeyError);
  const other = await SecretCipher.fromBytes(new Uint8Array(32).fill(8));
  await rejects(other.open("api", sealed), /another key/);
});

Deno.test("SecretCipher.configured creates one 0600 key file and reuses it", async () => {
  const dir = await Deno.makeTempDir();
  const saved = Deno.env.get("NANO_MODAL_SECRET_KEY");
  Deno.env.delete("NANO_MODAL_SECRET_KEY");
  try {
    const a = await SecretCipher.configured(`${dir}/data`);
    equal((await Deno.stat(`${dir}/data/secret.key`)).mode! & 0o777, 0o600);
    const b = await SecretCipher.configured(`${dir}/data`);
    deepStrictEqual(await b.open("x", await a.seal("x", { K: "v" })), { K: "v" });
    Deno.env.set("NANO_MODAL_SECRET_KEY", "not a key");
    await rejects(SecretCipher.configured(`${dir}/data`), /64 hex digits/);
  } finally {
    if (saved) Deno.env.set("NANO_MODAL_SECRET_KEY", saved);
    else Deno.env.delete("NANO_MODAL_SECRET_KEY");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SecretCipher.fingerprint names equal values alike, other values or keys differently", async () => {
  const a = await SecretCipher.fromBytes(new Uint8Array(32).fill(1));
  const b = await SecretCipher.fromBytes(new Uint8Array(32).fill(2));
  equal(await a.fingerprint({ X: "1", Y: "2" }), await a.fingerprint({ Y: "2", X: "1" }));
  ok(await a.fingerprint({ X: "1" }) !== await a.fingerprint({ X: "2" }));
  ok(await a.fingerprint({ X: "1" }) !== await b.fingerprint({ X: "1" }));
  ok(/^[0-9a-f]{24}$/.test(await a.fingerprint({ X: "1" })));
});

import { deepStrictEqual, rejects, strictEqual, throws } from "node:assert/strict";
import { resolveOptions } from "./_options.ts";
import { Secret } from "./secret.ts";
import { Volume } from "./volume.ts";
import { InvalidError } from "./errors.ts";

const vol = Volume.fromName("v");

Deno.test("volumes mount at absolute paths that avoid / , /tmp and each other", () => {
  deepStrictEqual(Object.keys(resolveOptions("f", { volumes: { "/data": vol } }).volumes), [
    "/data",
  ]);
  for (
    const [path, why] of [
      ["data", /absolute path/],
      ["/", /absolute path/],
      ["/data/../etc", /absolute path/],
      ["/tmp", /overlaps \/tmp/],
      ["/tmp/cache", /overlaps \/tmp/],
      ["/nano-modal", /overlaps/],
    ] as const
  ) {
    throws(() => resolveOptions("f", { volumes: { [path]: vol } }), why, path);
  }
  throws(
    () => resolveOptions("f", { volumes: { "/a": vol, "/a/b": Volume.fromName("w") } }),
    /overlap: mount volumes at separate paths/,
  );
  throws(() => resolveOptions("f", { volumes: { "/a": vol, "/b": vol } }), /mounted twice/);
  throws(
    // deno-lint-ignore no-explicit-any
    () => resolveOptions("f", { volumes: { "/a": "v" as any } }),
    /must be a Volume/,
  );
});

Deno.test("secrets must be Secret objects; names and variable names are checked, values never quoted", () => {
  strictEqual(resolveOptions("f", { secrets: [Secret.fromName("a")] }).secrets.length, 1);
  // deno-lint-ignore no-explicit-any
  throws(() => resolveOptions("f", { secrets: ["a"] as any }), /list of secrets/);
  throws(() => Secret.fromName("bad name"), InvalidError);
  throws(
    () => Secret.fromDict({ "1X": "hidden-value" }),
    (e: Error) =>
      /not a valid environment variable name/.test(e.message) && !e.message.includes("hidden"),
  );
  throws(() => Volume.fromName("../x"), /Volume name/);
});

Deno.test("Secret.fromDotenv reads KEY=VALUE lines and names a bad line without its value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ok.env`, "A=1\n# c\nexport B=\"two words\"\nC='x' \n");
    Secret.fromDotenv(`${dir}/ok.env`);
    await Deno.writeTextFile(`${dir}/bad.env`, "A=1\nthis-line-is-secret\n");
    throws(
      () => Secret.fromDotenv(`${dir}/bad.env`),
      (e: Error) =>
        /bad\.env:2: expected KEY=VALUE/.test(e.message) && !e.message.includes("this-line"),
    );
    throws(() => Secret.fromDotenv(`${dir}/missing.env`), /cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Volume.commit() outside a container says where it works", async () => {
  await rejects(vol.commit(), /works inside a function that mounts the volume/);
});

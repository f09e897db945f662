import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { Image } from "./image.ts";

Deno.test("image methods return new images and leave the original alone", () => {
  const base = Image.debianSlim();
  const withJq = base.aptInstall("jq").env({ MODE: "prod" });
  strictEqual(base.layers.length, 1);
  deepStrictEqual(withJq.toJSON().layers, [
    { kind: "base", base: "debian-slim" },
    { kind: "apt", packages: ["jq"] },
    { kind: "env", vars: { MODE: "prod" } },
  ]);
});

Deno.test("images refuse what their base cannot do, and bad names", () => {
  throws(
    () => Image.deno().aptInstall("jq"),
    /aptInstall needs a Debian base: start from Image\.debianSlim\(\)/,
  );
  throws(() => Image.deno().runCommands("echo hi"), /runCommands needs a shell/);
  throws(() => Image.debianSlim().aptInstall("jq; rm -rf /"), /is not a package name/);
  throws(() => Image.deno().env({ "1X": "y" }), /not a valid variable name/);
  throws(() => Image.deno().addLocalFile("a.txt", "relative/b.txt"), /must be absolute/);
  throws(() => Image.fromRegistry("not a ref"), /not an image reference/);
});

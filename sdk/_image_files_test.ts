import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { imageDefinitions, npmExternals } from "./_image_files.ts";
import { InvalidError } from "./errors.ts";
import { Image } from "./image.ts";

async function sha(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("imageDefinitions() uploads each file once by content hash and puts hashes in the layers", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/tree/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/one.txt`, "same\n");
  await Deno.writeTextFile(`${dir}/tree/sub/b.txt`, "same\n");
  await Deno.writeTextFile(`${dir}/tree/a.sh`, "#!/bin/sh\n", { mode: 0o755 });
  await Deno.chmod(`${dir}/tree/a.sh`, 0o755);
  await Deno.chmod(`${dir}/one.txt`, 0o644);
  await Deno.chmod(`${dir}/tree/sub/b.txt`, 0o640);
  const uploads: string[] = [];
  const image = Image.deno().addLocalFile("one.txt", "/one.txt").addLocalDir(`${dir}/tree`, "/t")
    .env({ A: "1" });
  const defs = await imageDefinitions(new Map([["f", image], ["g", image]]), (hash) => {
    uploads.push(hash);
    return Promise.resolve();
  }, dir);
  const same = await sha("same\n");
  deepStrictEqual(uploads.sort(), [await sha("#!/bin/sh\n"), same].sort());
  const layers = defs.get("f")!.layers.map((l) => l.layer);
  strictEqual(layers[0].case, "base");
  deepStrictEqual(
    layers[1].case === "file" && { ...layers[1].value, $typeName: undefined },
    { $typeName: undefined, remotePath: "/one.txt", hash: same, mode: 0o644 },
  );
  deepStrictEqual(
    layers[2].case === "dir" && layers[2].value.files.map((f) => [f.path, f.mode]),
    [["a.sh", 0o755], ["sub/b.txt", 0o640]],
  );
  deepStrictEqual(layers[3].case === "env" && layers[3].value.vars, { A: "1" });
  strictEqual(defs.get("g"), defs.get("f"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("imageDefinitions() explains a missing path, or a file where a directory belongs, in one line", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/f.txt`, "x");
  const upload = () => Promise.resolve();
  await rejects(
    imageDefinitions(new Map([["f", Image.deno().addLocalFile("nope.txt", "/n")]]), upload, dir),
    (e) => {
      return e instanceof InvalidError &&
        /addLocalFile: cannot read nope\.txt .*does not exist/.test(e.message) &&
        !e.message.includes("\n");
    },
  );
  await rejects(
    imageDefinitions(new Map([["f", Image.deno().addLocalDir("f.txt", "/d")]]), upload, dir),
    /is not a directory/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("npmExternals() keeps npmInstall packages (any version, any subpath) out of the bundle", () => {
  deepStrictEqual(npmExternals([Image.deno().npmInstall("sharp@0.33", "@img/colour")]), [
    "npm:@img/colour",
    "npm:@img/colour@*",
    "npm:@img/colour/*",
    "npm:sharp",
    "npm:sharp@*",
    "npm:sharp/*",
  ]);
});

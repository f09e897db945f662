import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { tarStream, withParents } from "./_tar.ts";

Deno.test("tarStream() writes files, directories, modes and long names that tar reads back", async () => {
  const dir = await Deno.makeTempDir();
  const big = new Uint8Array(70_000).map((_, i) => i % 251);
  await Deno.writeFile(`${dir}/big.bin`, big);
  const long = `deep/${"x".repeat(120)}/file.txt`;
  const entries = withParents([
    { name: "a.txt", data: new TextEncoder().encode("hello\n"), mode: 0o600 },
    { name: "bin/big.bin", file: `${dir}/big.bin`, mode: 0o755 },
    { name: long, data: new TextEncoder().encode("far\n") },
  ]);
  await Deno.writeFile(`${dir}/out.tar`, tarStream(entries));
  await Deno.mkdir(`${dir}/x`);
  const { code } = await new Deno.Command("tar", {
    args: ["-xf", `${dir}/out.tar`, "-C", `${dir}/x`],
  }).output();
  strictEqual(code, 0);
  strictEqual(await Deno.readTextFile(`${dir}/x/a.txt`), "hello\n");
  strictEqual((await Deno.stat(`${dir}/x/a.txt`)).mode! & 0o777, 0o600);
  deepStrictEqual(await Deno.readFile(`${dir}/x/bin/big.bin`), big);
  strictEqual((await Deno.stat(`${dir}/x/bin/big.bin`)).mode! & 0o777, 0o755);
  strictEqual(await Deno.readTextFile(`${dir}/x/${long}`), "far\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("withParents() adds each parent directory once, before its first child", () => {
  const names = withParents([{ name: "a/b/c.txt", data: new Uint8Array() }, {
    name: "a/d.txt",
    data: new Uint8Array(),
  }])
    .map((e) => e.dir ? `${e.name}/` : e.name);
  deepStrictEqual(names, ["a/", "a/b/", "a/b/c.txt", "a/d.txt"]);
});

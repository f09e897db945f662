// Regenerates proto/gen/ from proto/nano_modal.proto (`deno task gen`).
// The generated imports are rewritten to versioned npm: specifiers so that the
// SDK resolves them even when a script imports it by path, without our import map.
const PROTOBUF = "npm:@bufbuild/protobuf@2.17.0";

const root = new URL("../", import.meta.url);
const genDir = new URL("proto/gen/", root);
await Deno.remove(genDir, { recursive: true }).catch(() => {});
const buf = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "npm:@bufbuild/buf@1.75.0", "generate"],
  cwd: root,
});
const { code } = await buf.spawn().status;
if (code !== 0) Deno.exit(code);
for await (const entry of Deno.readDir(genDir)) {
  const file = new URL(entry.name, genDir);
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(
    file,
    text.replaceAll(
      /from "@bufbuild\/protobuf(\/[a-z0-9]+)?"/g,
      (_m, sub = "") => `from "${PROTOBUF}${sub}"`,
    ),
  );
}
console.log("proto/gen regenerated");

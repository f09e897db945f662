import { deepStrictEqual, match, strictEqual, throws } from "node:assert/strict";
import { create, type MessageInitShape } from "../../proto/deps.ts";
import { ImageDefSchema, type ImageLayerSchema } from "../../proto/messages.ts";
import { parseImage, planLayers } from "./_image_layers.ts";
import { ImageBuildError } from "../errors.ts";

const HASH = "a".repeat(64);
type Layer = MessageInitShape<typeof ImageLayerSchema>["layer"];

/** An image as it arrives from the wire: encoded by the SDK's rules, a real message. */
function image(...layers: Layer[]) {
  return create(ImageDefSchema, { layers: layers.map((layer) => ({ layer })) });
}

Deno.test("planLayers() turns every layer kind into Dockerfile steps in order", () => {
  const def = parseImage(image(
    { case: "base", value: "debian-slim" },
    { case: "apt", value: { packages: ["jq", "curl"] } },
    { case: "run", value: { commands: ["echo one", "echo 'two'\necho three"] } },
    { case: "env", value: { vars: { A: 'x"$y\\', MULTI: "a\nb" } } },
    { case: "file", value: { remotePath: "/etc/app.json", hash: HASH, mode: 0o600 } },
    {
      case: "dir",
      value: { remotePath: "/srv/", files: [{ path: "sub/x.txt", hash: HASH, mode: 0o644 }] },
    },
    { case: "npm", value: { packages: ["is-odd@3"] } },
  ));
  const plan = planLayers("nano-modal/debian:abc", def.layers);
  const lines = plan.dockerfile.trim().split("\n");
  strictEqual(lines[0], "FROM nano-modal/debian:abc");
  match(
    lines[1],
    /^RUN \["\/bin\/sh","-c","apt-get update && .*install -y --no-install-recommends jq curl/,
  );
  strictEqual(lines[2], 'RUN ["/bin/sh","-c","echo one"]');
  strictEqual(lines[3], 'RUN ["/bin/sh","-c","echo \'two\'\\necho three"]');
  strictEqual(lines[4], 'ENV A="x\\"\\$y\\\\"');
  strictEqual(lines[5], 'COPY ["l3/f","/etc/app.json"]');
  strictEqual(lines[6], 'COPY ["l4/","/srv/"]');
  strictEqual(lines[7], "ENV DENO_DIR=/opt/nano-modal/deno");
  strictEqual(lines[8], 'RUN ["deno","cache","--no-config","--no-lock","npm:is-odd@3"]');
  strictEqual(lines.length, plan.steps.length);
  deepStrictEqual(plan.files.map((f) => f.contextPath), ["l3/f", "l4/sub/x.txt"]);
});

Deno.test("parseImage() refuses layers that could escape the Dockerfile or the image", () => {
  const bad: Layer[] = [
    { case: "file", value: { remotePath: "/x\nUSER root", hash: HASH, mode: 0o644 } },
    { case: "file", value: { remotePath: "relative", hash: HASH, mode: 0o644 } },
    { case: "file", value: { remotePath: "/x" } },
    {
      case: "dir",
      value: { remotePath: "/x", files: [{ path: "../../etc/shadow", hash: HASH, mode: 0o644 }] },
    },
    { case: "apt", value: { packages: ["jq; rm -rf /"] } },
    { case: "env", value: { vars: { "BAD NAME": "x" } } },
    { case: "registry", value: "second/base" },
    { case: undefined },
  ];
  for (const layer of bad) {
    throws(
      () => parseImage(image({ case: "base", value: "deno" }, layer)),
      ImageBuildError,
      JSON.stringify(layer),
    );
  }
  throws(() => parseImage(image({ case: "apt", value: { packages: ["jq"] } })), /no base/);
  throws(() => parseImage(image({ case: "base", value: "alpine" })), /no base/);
  deepStrictEqual(parseImage(undefined).base, { case: "base", value: "deno" });
});

import { deepStrictEqual, match, strictEqual, throws } from "node:assert/strict";
import { parseImage, planLayers } from "./_image_layers.ts";
import { ImageBuildError } from "../errors.ts";

const HASH = "a".repeat(64);

Deno.test("planLayers() turns every layer kind into Dockerfile steps in order", () => {
  const def = parseImage(JSON.stringify({
    layers: [
      { kind: "base", base: "debian-slim" },
      { kind: "apt", packages: ["jq", "curl"] },
      { kind: "run", commands: ["echo one", "echo 'two'\necho three"] },
      { kind: "env", vars: { A: 'x"$y\\', MULTI: "a\nb" } },
      { kind: "file", remotePath: "/etc/app.json", hash: HASH, mode: 0o600 },
      { kind: "dir", remotePath: "/srv/", files: [{ path: "sub/x.txt", hash: HASH, mode: 0o644 }] },
      { kind: "npm", packages: ["is-odd@3"] },
    ],
  }));
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
  const bad = [
    { kind: "file", remotePath: "/x\nUSER root", hash: HASH, mode: 0o644 },
    { kind: "file", remotePath: "relative", hash: HASH, mode: 0o644 },
    { kind: "file", remotePath: "/x", localPath: "/etc/passwd" },
    {
      kind: "dir",
      remotePath: "/x",
      files: [{ path: "../../etc/shadow", hash: HASH, mode: 0o644 }],
    },
    { kind: "apt", packages: ["jq; rm -rf /"] },
    { kind: "env", vars: { "BAD NAME": "x" } },
    { kind: "mystery" },
  ];
  for (const layer of bad) {
    throws(
      () => parseImage(JSON.stringify({ layers: [{ kind: "base", base: "deno" }, layer] })),
      ImageBuildError,
      JSON.stringify(layer),
    );
  }
  throws(() => parseImage('{"layers":[{"kind":"apt","packages":["jq"]}]}'), /no base/);
  strictEqual(parseImage("").base.kind, "base");
});

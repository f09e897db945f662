// End-to-end: `nano-modal image ls|prune` on the real Docker daemon, under a repository of its own
// (NANO_MODAL_IMAGE_REPOSITORY) so the images other tests build are never touched.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, runCli } from "./_cli.ts";

async function docker(...args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`docker ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** An empty image tagged `tag` (imported from an empty archive: no registry needed). */
async function emptyImage(tag: string): Promise<void> {
  const child = new Deno.Command("docker", {
    args: ["import", "-", tag],
    stdin: "piped",
    stdout: "null",
  })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new Uint8Array(1024)); // an empty tar archive: two zero blocks
  await w.close();
  strictEqual((await child.status).success, true);
}

const dockerUp = await new Deno.Command("docker", {
  args: ["info"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "image ls shows the runner's images with last use; prune keeps recent and in-use ones",
  ignore: !dockerUp,
  async fn() {
    const repo = `nm-gc-test-${crypto.randomUUID().slice(0, 8)}`;
    const cache = await Deno.makeTempDir({ prefix: "nm-gc-cache-" });
    const env = { NANO_MODAL_IMAGE_REPOSITORY: repo, NANO_MODAL_CACHE: cache };
    let container = "";
    try {
      await emptyImage(`${repo}/img:unused`);
      await emptyImage(`${repo}/img:busy`);
      container = await docker("create", `${repo}/img:busy`, "/nothing");

      const ls = await runCli(["image", "ls"], { env });
      check(ls.code === 0, "image ls exits 0", ls);
      match(ls.stdout, /^TAG\s+SIZE\s+CREATED\s+LAST USED\s+IN USE$/m);
      match(ls.stdout, new RegExp(`^${repo}/img:busy\\s+.*\\s+yes$`, "m"));
      match(ls.stdout, new RegExp(`^${repo}/img:unused\\s+.*\\s+no$`, "m"));

      const recent = await runCli(["image", "prune", "--unused-for", "1h"], { env });
      check(recent.code === 0, "prune exits 0", recent);
      match(recent.stdout, /Removed 0 images/);

      const all = await runCli(["image", "prune"], { env });
      check(all.code === 0, "prune exits 0", all);
      match(all.stdout, new RegExp(`removed ${repo}/img:unused`));
      match(all.stdout, /Removed 1 image,/);
      const left = await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `${repo}/*`);
      strictEqual(left, `${repo}/img:busy`);

      const bad = await runCli(["image", "prune", "--unused-for", "soon"], { env });
      strictEqual(bad.code, 1);
      match(bad.stderr, /--unused-for takes a duration like 30m, 12h or 7d/);
    } finally {
      if (container) await docker("rm", "-f", container).catch(() => {});
      for (const tag of ["unused", "busy"]) {
        await docker("rmi", "-f", `${repo}/img:${tag}`).catch(() => {});
      }
      await Deno.remove(cache, { recursive: true });
    }
    ok(true);
  },
});

// `deno task install` puts a working `nano-modal` on PATH; `.map` shows progress on a terminal only.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli } from "./_cli.ts";

Deno.test("deno install puts a nano-modal command that runs apps", async () => {
  const root = await Deno.makeTempDir({ prefix: "nm-install-" });
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args: [
        "install",
        "-g",
        "-A",
        "-f",
        "--root",
        root,
        "--name",
        "nano-modal",
        "--config",
        `${ROOT}deno.json`,
        `${ROOT}main.ts`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(install.code, 0, new TextDecoder().decode(install.stderr));
    const out = await new Deno.Command(`${root}/bin/nano-modal`, {
      args: ["run", "--runner", "deno", "examples/hello.ts"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(new TextDecoder().decode(out.stdout), "25\n", new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test(".map draws a progress bar on a terminal and nothing when output is piped", async () => {
  const piped = await runCli(["run", "--runner", "deno", "examples/parallel.ts", "--", "30"]);
  check(piped.code === 0, "exit 0", piped);
  ok(!piped.stderr.includes("█") && !piped.stderr.includes("\x1b[2K"), "no progress when piped");
  // `script` gives the command a pseudo-terminal, as a user's shell would.
  const cmd =
    `${Deno.execPath()} run -A ${ROOT}main.ts run --runner deno examples/parallel.ts -- 30`;
  const tty = await new Deno.Command("script", {
    args: ["-qec", cmd, "/dev/null"],
    cwd: ROOT,
    env: { TERM: "xterm", CI: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const screen = new TextDecoder().decode(tty.stdout);
  strictEqual(tty.code, 0, screen);
  match(screen, /slowSquare\.map\s+[█░]+\s+\d+\/30/);
  match(screen, /0 1 4 9 16/);
});

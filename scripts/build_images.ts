/**
 * `deno task image`: builds every image the container stack needs on this
 * host's engine, pulling nothing from a registry:
 *
 * - a Debian base with this host's Deno (the runner's own debootstrap-made
 *   Debian rootfs plus the Deno kit, exactly as workers build function bases);
 * - the project image from the top-level `Dockerfile`, `FROM` that base, with
 *   the project's dependencies cached beforehand into the build context;
 * - a Redis image from Debian's `redis-server` package.
 *
 * They are tagged `nano-modal:latest` and `redis:7`, the names
 * `docker-compose.yml` uses by default, so `docker-compose up -d` then runs
 * with nothing pulled. Options: `--tag NAME` (project image), `--redis-tag NAME`.
 * @module
 */
import { debianDenoBase } from "../runner/mod.ts";
import { sha256Hex } from "../proto/content_hash.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The rootfs the runner imports with debootstrap (made by step 1 on first use). */
const DEBIAN_ROOTFS_IMAGE = "nano-modal/debian-rootfs:bookworm-minbase";
const SKIP = new Set([".git", "dist", ".bench", "node_modules", "tests", "bench", ".ci"]);
// Files at the top that the image does not need: changing them does not rebuild it.
const SKIP_TOP = new Set(["docker-compose.yml", "README.md", ".dockerignore"]);

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] ? Deno.args[i + 1] : fallback;
}

function cacheDir(): string {
  return Deno.env.get("NANO_MODAL_CACHE") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`}/nano-modal`;
}

async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}): Promise<void> {
  const { code } = await new Deno.Command(cmd, { args, ...options }).spawn().status;
  if (code !== 0) throw new Error(`\`${cmd} ${args.join(" ")}\` failed with exit code ${code}`);
}

/** Copies the project (minus caches) into `to`; returns its files' paths and contents' hashes. */
async function copyProject(from: string, to: string, rel = ""): Promise<string[]> {
  const seen: string[] = [];
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (SKIP.has(entry.name) || entry.name.endsWith(".log")) continue;
    if (rel === "" && SKIP_TOP.has(entry.name)) continue;
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) seen.push(...await copyProject(src, dst, `${rel}${entry.name}/`));
    else if (entry.isFile) {
      const data = await Deno.readFile(src);
      await Deno.writeFile(dst, data);
      seen.push(`${rel}${entry.name}:${await sha256Hex(data)}`);
    }
  }
  return seen;
}

/** The id of `image`, or undefined when it does not exist. */
function imageId(image: string): Promise<string | undefined> {
  return inspect(image, "{{.Id}}");
}

async function inspect(image: string, format: string): Promise<string | undefined> {
  const { code, stdout } = await new Deno.Command("docker", {
    args: ["image", "inspect", "-f", format, image],
    stdout: "piped",
    stderr: "null",
  }).output();
  return code === 0 ? new TextDecoder().decode(stdout).trim() : undefined;
}

/** A label of `image`, or undefined when the image does not exist. */
function imageLabel(image: string, label: string): Promise<string | undefined> {
  return inspect(image, `{{index .Config.Labels "${label}"}}`);
}

/** The project image `tag` from the Dockerfile, FROM `base`; skipped when its sources are unchanged. */
async function buildProject(tag: string, base: string, log: (line: string) => void): Promise<void> {
  const context = await Deno.makeTempDir({ prefix: "nano-modal-image-" });
  try {
    const files = await copyProject(ROOT.replace(/\/$/, ""), context);
    const source = await sha256Hex(new TextEncoder().encode([base, ...files.sort()].join("\n")));
    const previous = await imageLabel(tag, "nano-modal.source");
    if (previous === source) {
      log(`  ${tag} is up to date`);
      return;
    }
    const previousId = previous === undefined ? undefined : await imageId(tag);
    // The dependencies, fetched on this host (no registry of images involved), so the
    // build itself runs with no network at all.
    // The subcommands and dockerode load by specifiers built at run time (cli/_lazy.ts,
    // runner/docker/_docker.ts): they are named here as in the Dockerfile's own `deno cache`.
    const cli: string[] = [];
    for await (const e of Deno.readDir(`${context}/cli`)) {
      if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        cli.push(`cli/${e.name}`);
      }
    }
    await run(Deno.execPath(), [
      "cache",
      "--quiet",
      "main.ts",
      ...cli.sort(),
      "runner/docker/_dockerode.ts",
      "sdk/mod.ts",
      "sdk/_session.ts",
      "runner/entrypoint.ts",
    ], { cwd: context, env: { DENO_DIR: `${context}/deno_dir` }, stderr: "null" });
    await run("docker", [
      "build",
      "-q",
      "--network",
      "none",
      "--label",
      `nano-modal.source=${source}`,
      "--build-arg",
      `BASE=${base}`,
      "-t",
      tag,
      context,
    ], { stdout: "null" });
    // The image it replaces would linger untagged: remove it unless a container still uses it.
    if (previousId && previousId !== await imageId(tag)) {
      await new Deno.Command("docker", {
        args: ["rmi", previousId],
        stdout: "null",
        stderr: "null",
      })
        .output();
    }
  } finally {
    await Deno.remove(context, { recursive: true }).catch(() => {});
  }
}

/** A Redis image `tag` from Debian's package, on the debootstrap-made rootfs. */
async function buildRedis(tag: string, rootfs: string, log: (line: string) => void): Promise<void> {
  if (await imageLabel(tag, "nano-modal.redis") === rootfs) {
    log(`  ${tag} is up to date`);
    return;
  }
  const context = await Deno.makeTempDir({ prefix: "nano-modal-redis-" });
  try {
    await Deno.writeTextFile(
      `${context}/Dockerfile`,
      [
        `FROM ${rootfs}`,
        "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data",
        "USER redis",
        "WORKDIR /data",
        "VOLUME /data",
        "EXPOSE 6379",
        `LABEL nano-modal.redis=${rootfs}`,
        'CMD ["redis-server", "--appendonly", "yes", "--dir", "/data", "--protected-mode", "no"]',
        "",
      ].join("\n"),
    );
    await run("docker", ["build", "-q", "-t", tag, context], { stdout: "null" });
  } finally {
    await Deno.remove(context, { recursive: true }).catch(() => {});
  }
}

async function main(): Promise<void> {
  const tag = flag("tag", "nano-modal:latest");
  const redisTag = flag("redis-tag", "redis:7");
  const started = Date.now();
  const log = (line: string) => console.error(line);
  await Deno.mkdir(cacheDir(), { recursive: true });

  log("1/3 the Debian base with this host's Deno");
  const base = await debianDenoBase({ cacheDir: cacheDir(), log });
  log(`2/3 ${tag} from ${base}`);
  await buildProject(tag, base, log);
  log(`3/3 ${redisTag} from Debian's redis-server`);
  await buildRedis(redisTag, DEBIAN_ROOTFS_IMAGE, log);
  log(`${tag} and ${redisTag} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    Deno.exit(1);
  }
}

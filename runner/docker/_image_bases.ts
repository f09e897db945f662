/**
 * Base images, made locally because no registry may be reachable:
 * - deno: FROM scratch with the worker's own Deno binary, the glibc
 *   libraries `ldd` lists for it and the host CA bundle;
 * - debian-slim: a `debootstrap --variant=minbase bookworm` rootfs imported
 *   once per machine, plus the same Deno and CA bundle;
 * - a registry image (pulled when a registry answers), plus Deno.
 * Every base carries the host CA bundle and trusts it (DENO_CERT), so TLS
 * works behind an intercepting proxy.
 */
import type { Dockerode } from "./_docker.ts";
import { sha256Hex } from "../../proto/content_hash.ts";
import { ImageBuildError } from "../errors.ts";
import type { BuildLog } from "../runner.ts";
import { type TarEntry, withParents } from "./_tar.ts";

/** The host files every base gets: Deno and the CA bundle, with an id for tags. */
export interface DenoKit {
  denoPath: string;
  caPath: string;
  /** Changes when either file does. */
  id: string;
}

/** A Dockerfile and the context entries it needs. */
export interface BasePlan {
  dockerfile: string;
  entries: TarEntry[];
  steps: string[];
}

const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const ENV = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "HOME=/tmp",
  "DENO_DIR=/tmp/deno",
  "DENO_CERT=/etc/nano-modal/ca-certificates.crt",
  "DENO_NO_UPDATE_CHECK=1",
  "NO_COLOR=1",
];
const DEBIAN_SUITE = "bookworm";

/** Describes the worker's Deno binary and the host CA bundle. */
export async function denoKit(denoPath: string): Promise<DenoKit> {
  const [deno, ca] = await Promise.all([
    Deno.stat(denoPath),
    Deno.readFile(CA_BUNDLE).catch(() => null),
  ]);
  if (!ca) {
    throw new ImageBuildError(
      `Cannot read the host CA bundle ${CA_BUNDLE}: install ca-certificates on the worker host`,
    );
  }
  const id = await sha256Hex(new TextEncoder().encode(
    `${Deno.version.deno}\0${deno.size}\0${deno.mtime?.getTime()}\0${await sha256Hex(ca)}`,
  ));
  return { denoPath, caPath: CA_BUNDLE, id: id.slice(0, 16) };
}

/** The Dockerfile lines that add the kit on top of any base. */
function kitPlan(from: string, kit: DenoKit): BasePlan {
  return {
    dockerfile: [
      `FROM ${from}`,
      `COPY ["kit/deno", "/usr/local/bin/deno"]`,
      `COPY ["kit/ca.crt", "/etc/nano-modal/ca-certificates.crt"]`,
      `COPY ["kit/ca.crt", "${CA_BUNDLE}"]`,
      `ENV ${ENV.join(" ")}`,
      "",
    ].join("\n"),
    entries: [
      { name: "kit", dir: true },
      { name: "kit/deno", file: kit.denoPath, mode: 0o755 },
      { name: "kit/ca.crt", file: kit.caPath },
    ],
    steps: [
      `FROM ${from}`,
      "add Deno",
      "add the CA bundle",
      "add the CA bundle",
      "set the environment",
    ],
  };
}

/** Plan of the `Image.deno()` base: FROM scratch with Deno and its libraries. */
export async function denoBasePlan(kit: DenoKit): Promise<BasePlan> {
  const plan = kitPlan("scratch", kit);
  const libs = await sharedLibraries(kit.denoPath);
  const files: TarEntry[] = [
    ...libs.map((path) => ({ name: `rootfs${path}`, file: path, mode: 0o755 })),
    {
      name: "rootfs/etc/passwd",
      data: text(
        "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
      ),
    },
    { name: "rootfs/etc/group", data: text("root:x:0:\nnogroup:x:65534:\n") },
    { name: "rootfs/tmp", dir: true, mode: 0o1777 },
  ];
  const lines = plan.dockerfile.split("\n");
  lines.splice(1, 0, `COPY ["rootfs/", "/"]`);
  return {
    dockerfile: lines.join("\n"),
    entries: [...withParents(files), ...plan.entries],
    steps: ["FROM scratch", "add glibc", ...plan.steps.slice(1)],
  };
}

/** Plan of a base made from `from` (the Debian rootfs, a registry image) plus the kit. */
export function overlayBasePlan(from: string, kit: DenoKit): BasePlan {
  return kitPlan(from, kit);
}

/** Name and tag of the imported Debian rootfs (independent of Deno, so made once per machine). */
export const DEBIAN_ROOTFS = `debian-rootfs:${DEBIAN_SUITE}-minbase`;

/** Where {@linkcode importDebianRootfs} works and reports. */
export interface RootfsRequest {
  /** The image to create, `repository:tag`. */
  tag: string;
  /** Scratch space for the rootfs (~210 MB while it runs). */
  workDir: string;
  log: BuildLog;
}

/** Runs debootstrap into a temporary directory and imports the result as `request.tag`. */
export async function importDebianRootfs(docker: Dockerode, request: RootfsRequest): Promise<void> {
  const { tag, workDir, log } = request;
  const mirror = await aptMirror();
  const dir = `${workDir}/debootstrap-${crypto.randomUUID().slice(0, 8)}`;
  log(
    `Making the Debian ${DEBIAN_SUITE} base with debootstrap from ${mirror} (about 35 s, once per machine)…`,
  );
  try {
    const child = new Deno.Command("debootstrap", {
      args: ["--variant=minbase", DEBIAN_SUITE, dir, mirror],
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).spawn();
    const tail: string[] = [];
    const forward = async (stream: ReadableStream<Uint8Array>) => {
      for await (
        const line of stream.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
      ) {
        tail.push(line);
        if (tail.length > 5) tail.shift();
        // Per-package lines would flood the caller; the phases show progress.
        if (!/^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) [a-z0-9]/.test(line)) {
          log(`  ${line}`);
        }
      }
    };
    const [status] = await Promise.all([
      child.status,
      forward(child.stdout),
      forward(child.stderr),
    ]);
    if (!status.success) {
      throw new ImageBuildError(
        `debootstrap of Debian ${DEBIAN_SUITE} from ${mirror} failed (exit ${status.code}): ${
          tail.join(" | ")
        }. Check that the mirror is reachable from the worker`,
      );
    }
    log(`  importing the rootfs as ${tag}`);
    const tar = new Deno.Command("tar", {
      args: ["-C", dir, "-c", "."],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Loaded here: node:stream costs a run on the deno runner ~10 ms of start for nothing.
    const { Readable } = await import("node:stream");
    const stream = await docker.importImage(Readable.fromWeb(tar.stdout as never) as never, {
      repo: tag.slice(0, tag.lastIndexOf(":")),
      tag: tag.slice(tag.lastIndexOf(":") + 1),
    });
    await followToEnd(docker, stream);
    if (!(await tar.status).success) {
      throw new ImageBuildError(`Archiving the Debian rootfs in ${dir} failed`);
    }
  } catch (err) {
    if (err instanceof ImageBuildError) throw err;
    throw new ImageBuildError(`Making the Debian base failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Pulls a registry image; the error says that no registry may be reachable. */
export async function pullImage(docker: Dockerode, ref: string, log: BuildLog): Promise<void> {
  log(`Pulling ${ref}…`);
  try {
    await followToEnd(docker, await docker.pull(ref));
  } catch (err) {
    throw new ImageBuildError(
      `Cannot pull ${ref} (${
        (err as Error).message
      }): no registry is reachable from this worker; use Image.debianSlim() or Image.deno(), or load the image with \`docker load\``,
      { cause: err },
    );
  }
}

function followToEnd(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let error: string | undefined;
    docker.modem.followProgress(stream, (err: Error | null) => {
      if (err || error) reject(err ?? new Error(error));
      else resolve();
    }, (event: { error?: string }) => {
      if (event.error) error = event.error;
    });
  });
}

/** The Debian mirror apt uses on this host (deb822 `URIs:` or one-line `deb URL`). */
export async function aptMirror(): Promise<string> {
  const files = ["/etc/apt/sources.list"];
  try {
    for await (const e of Deno.readDir("/etc/apt/sources.list.d")) {
      if (/\.(list|sources)$/.test(e.name)) files.push(`/etc/apt/sources.list.d/${e.name}`);
    }
  } catch {
    // No sources.list.d: only sources.list.
  }
  for (const file of files.sort()) {
    const content = await Deno.readTextFile(file).catch(() => "");
    for (const line of content.split("\n")) {
      const m = line.match(/^\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(https?:\/\/\S+)/);
      if (m && !/security/.test(m[1])) return m[1];
    }
  }
  return "http://deb.debian.org/debian";
}

/** Absolute paths of the shared libraries `ldd` lists for `binary`, and the dynamic loader. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { code, stdout } = await new Deno.Command("ldd", { args: [binary], stderr: "null" })
    .output()
    .catch(() => ({ code: -1, stdout: new Uint8Array() }));
  if (code !== 0) {
    throw new ImageBuildError(
      `\`ldd ${binary}\` failed: the worker needs ldd (libc-bin) and a dynamically linked glibc deno`,
    );
  }
  const paths = new Set<string>(["/lib64/ld-linux-x86-64.so.2"]);
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const m = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x/);
    if (m) paths.add(m[1]);
  }
  return [...paths];
}

function lineSplitter(): TransformStream<string, string> {
  let partial = "";
  return new TransformStream({
    transform(chunk, controller) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) if (line.trim()) controller.enqueue(line.trimEnd());
    },
    flush(controller) {
      if (partial.trim()) controller.enqueue(partial.trimEnd());
    },
  });
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

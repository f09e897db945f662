/**
 * A bubblewrap namespace around a deno sandbox: its own mount namespace that
 * shows only the deno binary and its libraries, the bundle, the entrypoint,
 * the worker's socket, a size-capped tmpfs temp dir (at the path the sandbox
 * would have on the host, so its working directory reads the same with or
 * without bubblewrap) and any extra mounts (the seam volumes use); its own PID, IPC and UTS namespaces; no capabilities;
 * user 65534 where user namespaces work; killed with its worker
 * (`--die-with-parent`); and with `blockNetwork`, its own empty network
 * namespace. Deno permissions still apply inside, as a second wall.
 */

/** Where things appear inside the namespace (the same layout as docker's). */
export const INSIDE = {
  deno: "/nano-modal/bin/deno",
  entrypoint: "/nano-modal/entrypoint.js",
  bundle: "/nano-modal/bundle.js",
  socketDir: "/nano-modal/run",
};

/** A bind mount of a host path into the sandbox. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What the host's bubblewrap can do, learnt once. */
export interface BwrapSupport {
  path: string;
  /** `--unshare-user` works, so the sandbox runs as uid 65534. */
  userns: boolean;
  /** Host files the deno binary needs: its shared libraries and loader. */
  libraries: string[];
}

/** Host files that DNS, TLS and time zones read, where they exist. */
const ETC = ["/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/localtime", "/etc/ld.so.cache"];
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Shared libraries `ldd` lists for `binary` (with the loader); empty for a static binary. */
async function libraries(binary: string): Promise<string[]> {
  try {
    const { stdout } = await new Deno.Command("ldd", { args: [binary], stderr: "null" }).output();
    const paths = new TextDecoder().decode(stdout).split("\n")
      .map((line) => line.match(/(\/\S+)\s+\(0x/)?.[1])
      .filter((p): p is string => !!p);
    return [...new Set(paths)];
  } catch {
    return [];
  }
}

/**
 * Finds bubblewrap and checks that it can start `denoPath` here (as root, or
 * with user namespaces); null when it cannot.
 */
export async function probeBwrap(denoPath: string): Promise<BwrapSupport | null> {
  const libs = await libraries(denoPath);
  for (const userns of [true, false]) {
    const support = { path: "bwrap", userns, libraries: libs };
    const args = [
      ...namespaceArgs(support, false),
      ...baseMounts(support, denoPath, "/tmp", 16),
      INSIDE.deno,
      "--version",
    ];
    try {
      const { code } = await new Deno.Command("bwrap", {
        args,
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      if (code === 0) return support;
    } catch {
      return null; // no bwrap on this host
    }
  }
  return null;
}

function namespaceArgs(support: BwrapSupport, blockNetwork: boolean): string[] {
  const args = [
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "sandbox",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
  ];
  if (support.userns) args.push("--unshare-user", "--uid", "65534", "--gid", "65534");
  if (blockNetwork) args.push("--unshare-net");
  return args;
}

function baseMounts(
  support: BwrapSupport,
  denoPath: string,
  tmpDir: string,
  tmpMib: number,
): string[] {
  const args = ["--ro-bind", denoPath, INSIDE.deno];
  for (const lib of support.libraries) args.push("--ro-bind", lib, lib);
  args.push("--proc", "/proc", "--dev", "/dev");
  // A private /tmp, as in a docker sandbox: code that writes /tmp/x works on both runners.
  args.push("--size", String(tmpMib * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp");
  args.push("--size", String(tmpMib * 1024 * 1024), "--perms", "1777", "--tmpfs", tmpDir);
  return args;
}

/** Where the sandbox's parts are on the host. */
export interface BwrapLayout {
  denoPath: string;
  entrypointPath: string;
  /** Undefined for a spare sandbox: its bundle arrives later in its socket dir. */
  bundlePath?: string;
  socketDir: string;
  /** Where the tmpfs temp dir appears (and the sandbox starts). */
  tmpDir: string;
  /** Size of the tmpfs temp dir. */
  tmpMib: number;
  blockNetwork: boolean;
  /** Extra bind mounts (volumes), applied last. */
  mounts: BindMount[];
}

/** The bwrap arguments that precede the command run inside. */
export async function bwrapArgs(support: BwrapSupport, layout: BwrapLayout): Promise<string[]> {
  const args = [
    ...namespaceArgs(support, layout.blockNetwork),
    ...baseMounts(support, layout.denoPath, layout.tmpDir, layout.tmpMib),
    "--ro-bind",
    layout.entrypointPath,
    INSIDE.entrypoint,
    ...layout.bundlePath === undefined ? [] : ["--ro-bind", layout.bundlePath, INSIDE.bundle],
    "--bind",
    layout.socketDir,
    INSIDE.socketDir,
  ];
  for (const file of ETC) if (await exists(file)) args.push("--ro-bind", file, file);
  if (await exists(CA_BUNDLE)) args.push("--ro-bind", CA_BUNDLE, CA_BUNDLE);
  for (const m of layout.mounts) args.push(m.readOnly ? "--ro-bind" : "--bind", m.source, m.target);
  args.push("--chdir", layout.tmpDir);
  return args;
}

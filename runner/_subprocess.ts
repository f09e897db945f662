/** Small facts about host processes that the deno runner needs. */

/** The name of the signal a `128 + n` exit code stands for. */
export function signalName(code: number): string {
  const names: Record<number, string> = {
    6: "SIGABRT",
    9: "SIGKILL",
    11: "SIGSEGV",
    15: "SIGTERM",
  };
  return names[code - 128] ?? `SIG${code - 128}`;
}

/** The real path of `path`, or `path` itself when it cannot be resolved. */
export async function realPath(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return path;
  }
}

/** Whether `setpriv --pdeathsig` works here (children die with their parent). */
export async function hasSetpriv(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("setpriv", {
      args: ["--pdeathsig", "SIGKILL", "--", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

/** Checks of untrusted RPC input: each failure is an `invalid_argument` saying what is wrong. */
import { Code, ConnectError } from "../proto/deps.ts";
import type { FunctionDef } from "../proto/messages.ts";

/** Throws `invalid_argument` with `message`. */
export function invalid(message: string): never {
  throw new ConnectError(message, Code.InvalidArgument);
}

const NAME = /^[A-Za-z0-9_$][A-Za-z0-9._$-]{0,63}$/;

/** Checks an app or function name. */
export function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    invalid(
      `${what} "${
        name.slice(0, 80)
      }" is not valid: use letters, digits, ".", "_", "$" and "-" (up to 64)`,
    );
  }
}

/** Checks a function definition's ranges. */
export function checkFunctionDef(def: FunctionDef): void {
  checkName("function name", def.name);
  const where = `function ${def.name}`;
  if (def.timeoutMs < 1 || def.timeoutMs > 86_400_000) invalid(`${where}: timeout_ms out of range`);
  if (def.memoryMib < 16) invalid(`${where}: memory_mib must be at least 16`);
  if (!(def.cpu > 0 && def.cpu <= 64)) invalid(`${where}: cpu must be above 0 and at most 64`);
  if (def.concurrency < 1 || def.concurrency > 1000) invalid(`${where}: concurrency out of range`);
  if (def.maxContainers < 1) invalid(`${where}: max_containers must be at least 1`);
  if ((def.retries?.maxRetries ?? 0) > 100) invalid(`${where}: at most 100 retries`);
  if (def.image) {
    const [base, ...rest] = def.image.layers;
    if (base?.layer.case !== "base" && base?.layer.case !== "registry") {
      invalid(`${where}: an image starts with its base (base or registry)`);
    }
    if (rest.some((l) => !l.layer.case)) invalid(`${where}: an image layer has no kind`);
  }
}

/** Validation of `app.function(options, fn)` options, at definition time. */
import { InvalidError } from "./errors.ts";
import { Image } from "./image.ts";
import { Secret } from "./secret.ts";
import { Volume } from "./volume.ts";
import { didYouMean } from "../proto/suggest.ts";
import { type ResolvedKind, resolveSchedule, type Schedule } from "./_kinds.ts";

/**
 * How a function is retried when it throws or times out.
 *
 * @example
 * ```ts
 * import { App, type RetryOptions } from "@nano/modal";
 * const retries: RetryOptions = { maxRetries: 3, initialDelayMs: 500, backoffCoefficient: 2 };
 * const flaky = new App("demo").function({ retries }, function flaky() {
 *   return Math.random();
 * });
 * ```
 */
export interface RetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Delay before the first retry. @default 1000 */
  initialDelayMs?: number;
  /** Each delay is the previous one times this. @default 2 */
  backoffCoefficient?: number;
  /** Upper bound for any delay. @default 60_000 */
  maxDelayMs?: number;
}

/**
 * Options of a remote function; every unit is in the name. Unknown options
 * fail at definition with an `InvalidError`.
 *
 * @example
 * ```ts
 * import { App, type FunctionOptions, Image } from "@nano/modal";
 * const options: FunctionOptions = {
 *   image: Image.debianSlim().aptInstall("curl"),
 *   timeoutMs: 30_000,
 *   retries: 2,
 *   memoryMiB: 256,
 *   concurrency: 4,
 * };
 * const fetchLen = new App("demo").function(options, async function fetchLen(url: string) {
 *   return (await (await fetch(url)).text()).length;
 * });
 * ```
 */
export interface FunctionOptions {
  /** The container image. @default Image.deno() */
  image?: Image;
  /** Wall-clock limit of one attempt. @default 300_000 */
  timeoutMs?: number;
  /** Retries for exceptions and timeouts (a count, or a policy). @default 0 */
  retries?: number | RetryOptions;
  /** Memory limit of the container. @default 512 */
  memoryMiB?: number;
  /** CPU cores for the container (fractions allowed). @default 1 */
  cpu?: number;
  /** Run without network access. @default false */
  blockNetwork?: boolean;
  /** Containers kept warm even when idle. @default 0 */
  minContainers?: number;
  /** Upper bound on containers for this function per worker. @default 16 */
  maxContainers?: number;
  /** Idle containers kept warm beside the busy ones while the function is busy. @default 0 */
  bufferContainers?: number;
  /** How long an idle container stays warm. @default 60_000 */
  scaledownWindowMs?: number;
  /** Inputs one container runs at once. @default 1 */
  concurrency?: number;
  /** Secrets whose variables the function's environment gets; later ones win. @default [] */
  secrets?: Secret[];
  /** Volumes by absolute mount path, e.g. `{ "/data": vol }`. @default {} */
  volumes?: Record<string, Volume>;
  /** Run by itself on this schedule once the app is deployed. */
  schedule?: Schedule;
}

/**
 * Options resolved to concrete values (see {@linkcode FunctionOptions} for meanings).
 *
 * @example
 * ```ts
 * import { App, type ResolvedOptions } from "@nano/modal";
 * const square = new App("demo").function({ timeoutMs: 5_000 }, function square(x: number) {
 *   return x * x;
 * });
 * const resolved: ResolvedOptions = square.options;
 * console.log(resolved.timeoutMs, resolved.memoryMiB); // 5000 and the default
 * ```
 */
export interface ResolvedOptions {
  /** The container image. */
  image: Image;
  /** Wall-clock limit of one attempt. */
  timeoutMs: number;
  /** The retry policy. */
  retries: Required<RetryOptions>;
  /** Memory limit. */
  memoryMiB: number;
  /** CPU cores. */
  cpu: number;
  /** Whether the network is blocked. */
  blockNetwork: boolean;
  /** Containers kept warm. */
  minContainers: number;
  /** Most containers per worker. */
  maxContainers: number;
  /** Idle containers kept beside busy ones. */
  bufferContainers: number;
  /** Idle time before a container stops. */
  scaledownWindowMs: number;
  /** Inputs per container at once. */
  concurrency: number;
  /** Secrets, in order. */
  secrets: Secret[];
  /** Volumes by mount path. */
  volumes: Record<string, Volume>;
  /** What kind of function this is (web endpoint, class, scheduled); unset for plain ones. */
  kind?: ResolvedKind;
}

const KNOWN = [
  "image",
  "timeoutMs",
  "retries",
  "memoryMiB",
  "cpu",
  "blockNetwork",
  "minContainers",
  "maxContainers",
  "bufferContainers",
  "scaledownWindowMs",
  "concurrency",
  "secrets",
  "volumes",
  "schedule",
];
const RETRY_KNOWN = ["maxRetries", "initialDelayMs", "backoffCoefficient", "maxDelayMs"];

function integer(where: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidError(
      `${where} must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

function checkKeys(where: string, obj: object, known: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new InvalidError(
        `Unknown option "${key}" in ${where}${
          didYouMean(key, known) || `: valid options are ${known.join(", ")}`
        }`,
      );
    }
  }
}

/** Validates options and fills in defaults; throws {@linkcode InvalidError} naming the problem. */
export function resolveOptions(fnName: string, options: FunctionOptions): ResolvedOptions {
  const where = `the options of ${fnName}`;
  if (typeof options !== "object" || options === null) {
    throw new InvalidError(`${where} must be an object`);
  }
  checkKeys(where, options, KNOWN);
  const o = options;
  if (o.image !== undefined && !(o.image instanceof Image)) {
    throw new InvalidError(`image in ${where} must be an Image, e.g. Image.debianSlim()`);
  }
  let retries: Required<RetryOptions> = {
    maxRetries: 0,
    initialDelayMs: 1000,
    backoffCoefficient: 2,
    maxDelayMs: 60_000,
  };
  if (typeof o.retries === "number") {
    retries.maxRetries = integer(`retries in ${where}`, o.retries, 0, 100);
  } else if (o.retries !== undefined) {
    if (typeof o.retries !== "object" || o.retries === null) {
      throw new InvalidError(
        `retries in ${where} must be a count or { maxRetries, initialDelayMs, backoffCoefficient, maxDelayMs }`,
      );
    }
    checkKeys(`retries of ${fnName}`, o.retries, RETRY_KNOWN);
    retries = { ...retries, ...o.retries };
    integer(`retries.maxRetries in ${where}`, retries.maxRetries, 0, 100);
    integer(`retries.initialDelayMs in ${where}`, retries.initialDelayMs, 0, 3_600_000);
    integer(`retries.maxDelayMs in ${where}`, retries.maxDelayMs, 0, 3_600_000);
    if (
      typeof retries.backoffCoefficient !== "number" ||
      !(retries.backoffCoefficient >= 1 && retries.backoffCoefficient <= 10)
    ) {
      throw new InvalidError(
        `retries.backoffCoefficient in ${where} must be a number from 1 to 10`,
      );
    }
  }
  const cpu = o.cpu ?? 1;
  if (typeof cpu !== "number" || !(cpu > 0 && cpu <= 64)) {
    throw new InvalidError(
      `cpu in ${where} must be a number of cores above 0 and at most 64, got ${String(cpu)}`,
    );
  }
  if (o.blockNetwork !== undefined && typeof o.blockNetwork !== "boolean") {
    throw new InvalidError(`blockNetwork in ${where} must be true or false`);
  }
  const resolved: ResolvedOptions = {
    image: o.image ?? Image.deno(),
    timeoutMs: integer(`timeoutMs in ${where}`, o.timeoutMs ?? 300_000, 1, 86_400_000),
    retries,
    memoryMiB: integer(`memoryMiB in ${where}`, o.memoryMiB ?? 512, 16, 1_048_576),
    cpu,
    blockNetwork: o.blockNetwork ?? false,
    minContainers: integer(`minContainers in ${where}`, o.minContainers ?? 0, 0, 1000),
    maxContainers: integer(`maxContainers in ${where}`, o.maxContainers ?? 16, 1, 1000),
    bufferContainers: integer(`bufferContainers in ${where}`, o.bufferContainers ?? 0, 0, 1000),
    scaledownWindowMs: integer(
      `scaledownWindowMs in ${where}`,
      o.scaledownWindowMs ?? 60_000,
      0,
      86_400_000,
    ),
    concurrency: integer(`concurrency in ${where}`, o.concurrency ?? 1, 1, 1000),
    secrets: resolveSecrets(where, o.secrets),
    volumes: resolveVolumes(where, o.volumes),
  };
  const schedule = resolveSchedule(where, o.schedule);
  if (schedule) resolved.kind = { schedule };
  if (resolved.minContainers > resolved.maxContainers) {
    throw new InvalidError(
      `minContainers (${resolved.minContainers}) exceeds maxContainers (${resolved.maxContainers}) in ${where}`,
    );
  }
  return resolved;
}

function resolveSecrets(where: string, secrets: unknown): Secret[] {
  if (secrets === undefined) return [];
  if (!Array.isArray(secrets) || !secrets.every((s) => s instanceof Secret)) {
    throw new InvalidError(
      `secrets in ${where} must be a list of secrets, e.g. [Secret.fromName("api-keys")]`,
    );
  }
  return [...secrets];
}

/** Where a volume may not be mounted: the system's own directories. */
const RESERVED = ["/tmp", "/nano-modal", "/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/lib"];

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

function resolveVolumes(where: string, volumes: unknown): Record<string, Volume> {
  if (volumes === undefined) return {};
  if (typeof volumes !== "object" || volumes === null || Array.isArray(volumes)) {
    throw new InvalidError(`volumes in ${where} must be an object such as { "/data": volume }`);
  }
  const out: Record<string, Volume> = {};
  const names = new Set<string>();
  for (const [path, vol] of Object.entries(volumes)) {
    if (!(vol instanceof Volume)) {
      throw new InvalidError(
        `volumes["${path}"] in ${where} must be a Volume, e.g. Volume.fromName("cache")`,
      );
    }
    if (
      !/^(\/[A-Za-z0-9._-]+)+$/.test(path) || path.split("/").some((p) => p === "." || p === "..")
    ) {
      throw new InvalidError(
        `Mount path "${path}" in ${where} must be an absolute path below / such as "/data" (letters, digits, ".", "_", "-")`,
      );
    }
    const reserved = RESERVED.find((r) => overlaps(path, r));
    if (reserved) {
      throw new InvalidError(
        `Mount path "${path}" in ${where} overlaps ${reserved}, which the sandbox uses: choose another such as "/data"`,
      );
    }
    const clash = Object.keys(out).find((other) => overlaps(path, other));
    if (clash) {
      throw new InvalidError(
        `Mount paths "${clash}" and "${path}" in ${where} overlap: mount volumes at separate paths`,
      );
    }
    if (names.has(vol.name)) {
      throw new InvalidError(`Volume "${vol.name}" is mounted twice in ${where}: mount it once`);
    }
    names.add(vol.name);
    out[path] = vol;
  }
  return out;
}

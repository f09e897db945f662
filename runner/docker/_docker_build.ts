/**
 * One `docker build` through the Engine API: sends a tar context, streams
 * the build output to the caller as numbered steps, and on failure throws an
 * {@linkcode ImageBuildError} that names the step and quotes its last output.
 */
import type { Dockerode } from "./_docker.ts";
import { ImageBuildError } from "../errors.ts";
import type { BuildLog } from "../runner.ts";

/** What to build. */
export interface BuildRequest {
  tag: string;
  /** The tar context (with a `Dockerfile`). */
  context: ReadableStream<Uint8Array>;
  /** A description of each Dockerfile instruction, in order. */
  steps: string[];
  log: BuildLog;
  /** Rebuild every step instead of reusing docker's cache. */
  noCache?: boolean;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

const STEP = /^Step (\d+)\/(\d+) : /;

/** Builds `request.context` into `request.tag`. */
export async function dockerBuild(docker: Dockerode, request: BuildRequest): Promise<void> {
  const { steps, log } = request;
  let step = 0;
  const tail: string[] = [];
  const onEvent = (event: BuildEvent) => {
    // Docker colours stderr and apt redraws progress with \r: keep plain, final lines.
    // deno-lint-ignore no-control-regex -- ESC starts the colour codes we drop
    const plain = (event.stream ?? "").replace(/\x1b\[[0-9;]*m/g, "");
    for (const line of plain.split(/\r?\n|\r/)) {
      const text = line.trimEnd();
      if (!text || /^ --->|^Removing intermediate|^\(Reading database \.\.\. \d+%$/.test(text)) {
        continue;
      }
      const m = text.match(STEP);
      if (m) {
        step = Number(m[1]);
        tail.length = 0;
        log(`[${step}/${m[2]}] ${steps[step - 1] ?? text.slice(m[0].length)}`);
        continue;
      }
      tail.push(text);
      if (tail.length > 20) tail.shift();
      log(`  ${text}`);
    }
  };
  let failure: string | undefined;
  try {
    // Loaded here: node:stream costs a run on the deno runner ~10 ms of start for nothing.
    const { Readable } = await import("node:stream");
    const stream = await docker.buildImage(Readable.fromWeb(request.context as never), {
      t: request.tag,
      rm: true,
      forcerm: true,
      nocache: request.noCache ?? false,
    });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => err ? reject(err) : resolve(),
        (event: BuildEvent) => {
          if (event.error) failure = event.errorDetail?.message ?? event.error;
          onEvent(event);
        },
      );
    });
  } catch (err) {
    failure ??= (err as Error).message;
  }
  if (failure === undefined) return;
  const what = step > 0 ? `step ${step}/${steps.length} (${steps[step - 1] ?? "?"})` : "its start";
  const last = tail.filter((l) => !/^Running in /.test(l)).slice(-3).join(" | ");
  throw new ImageBuildError(
    `Building image ${request.tag} failed at ${what}: ${failure.trim()}${
      last ? `; last output: ${last}` : ""
    }. Fix that step of the image definition and run again`,
  );
}

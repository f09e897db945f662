/** `nano-modal image ls|prune`: the docker runner's images on this host. */
import { dockerReachable, DockerRunner, dockerSocketPath, type ImageInfo } from "../runner/mod.ts";
import { parse } from "./_args.ts";
import { cacheDir, imageRepository } from "./_runner.ts";
import { formatAge, parseDuration } from "./_duration.ts";
import { UsageError } from "./errors.ts";

export const IMAGE_HELP = `The docker runner's images on this host.

Usage: nano-modal image ls
       nano-modal image prune [--unused-for DURATION]

  ls                       each image: tag, size, age, last use, whether a container uses it
  prune                    remove images no container uses
    --unused-for DURATION  only those nobody used for this long, e.g. 7d, 12h (default 0: all)

Workers also prune on their own: see \`nano-modal worker --help\` (--prune-images-after).`;

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function table(images: ImageInfo[], nowMs: number): string {
  const rows = [["TAG", "SIZE", "CREATED", "LAST USED", "IN USE"]];
  for (const i of images) {
    rows.push([
      i.tag,
      mib(i.sizeBytes),
      `${formatAge(nowMs - i.createdMs)} ago`,
      `${formatAge(nowMs - i.lastUsedMs)} ago`,
      i.inUse ? "yes" : "no",
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd())
    .join("\n");
}

/** Runs `image ls|prune`; returns the exit code. */
export async function imageCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("image", args, { "unused-for": { type: "string" } });
  const [sub, ...extra] = positionals;
  if (values.help || !sub) {
    console.log(IMAGE_HELP);
    return values.help ? 0 : 2;
  }
  if (extra.length || !["ls", "prune"].includes(sub)) {
    throw new UsageError(`Usage: nano-modal image ls | image prune [--unused-for 7d]`);
  }
  const socket = dockerSocketPath();
  if (!(await dockerReachable(socket, 2_000))) {
    throw new UsageError(
      `No Docker daemon answers at ${socket}: images belong to the docker runner; start dockerd`,
    );
  }
  const runner = new DockerRunner({
    cacheDir: cacheDir(),
    socketPath: socket,
    imageRepository: imageRepository(),
  });
  const nowMs = Date.now();
  if (sub === "ls") {
    const images = await runner.images();
    if (!images.length) console.log("No images yet: the docker runner builds them on first use.");
    else console.log(table(images, nowMs));
    return 0;
  }
  const unusedForMs = typeof values["unused-for"] === "string"
    ? parseDuration(values["unused-for"], "--unused-for")
    : 0;
  const removed = await runner.pruneImages(unusedForMs);
  const freed = removed.reduce((n, i) => n + i.sizeBytes, 0);
  for (const i of removed) console.log(`removed ${i.tag} (${mib(i.sizeBytes)})`);
  console.log(
    `Removed ${removed.length} image${removed.length === 1 ? "" : "s"}, ${
      mib(freed)
    } at most freed (layers shared with kept images stay)`,
  );
  return 0;
}

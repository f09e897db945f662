/**
 * Volume benchmarks: a worker's copy committing and reloading 1,000 small
 * files and one 200 MB file through a real control plane (loopback HTTP/2,
 * memory store), in MB/s, against `cp -r` / `cp` of the same data on the same
 * disk in the same run. Goal: at least half the copy's throughput.
 * Run alone with `deno run -A bench/volume_bench.ts`.
 */
import { createMemoryStore, SecretCipher, startServer } from "../control/mod.ts";
import { ChunkCache, VolumeCopy } from "../runner/mod.ts";
import { createClient } from "../proto/deps.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { VolumeService } from "../proto/messages.ts";
import { VolumeClient } from "../proto/volume_client.ts";
import type { Row } from "./_table.ts";

const SMALL_FILES = 1_000;
const SMALL_BYTES = 1024;
const BIG_BYTES = 200 * 1000 * 1000;

/** Random-looking content that no two MiB share (chunks must not dedupe). */
function content(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const block = crypto.getRandomValues(new Uint8Array(65536));
  for (let at = 0; at < bytes; at += block.length) {
    out.set(block.subarray(0, Math.min(block.length, bytes - at)), at);
    new DataView(out.buffer).setUint32(at, (at / block.length) ^ seed);
  }
  return out;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await work();
  return (performance.now() - t) / 1000;
}

async function cp(args: string[]): Promise<void> {
  const { code } = await new Deno.Command("cp", { args }).output();
  if (code !== 0) throw new Error(`cp ${args.join(" ")} failed`);
}

function mbps(bytes: number, secs: number): number {
  return bytes / 1e6 / secs;
}

function row(name: string, bytes: number, secs: number, baseSecs: number, base: string): Row {
  const value = mbps(bytes, secs);
  const baseline = mbps(bytes, baseSecs);
  return {
    name,
    value: `${value.toFixed(1)} MB/s (${secs.toFixed(2)} s)`,
    baseline: `${base} ${baseline.toFixed(1)} MB/s`,
    ratio: `${(value / baseline).toFixed(2)}×`,
    goal: "≥ 0.5×",
  };
}

/** Runs the volume benchmarks; returns table rows. */
export async function volumeBench(): Promise<Row[]> {
  const root = await Deno.makeTempDir({ prefix: "nm-volume-bench-" });
  const store = createMemoryStore();
  const cipher = await SecretCipher.fromBytes(crypto.getRandomValues(new Uint8Array(32)));
  const server = await startServer({ store, state: { cipher }, port: 0 });
  const { transport, close } = createRpcTransport({ baseUrl: server.url });
  const service = createClient(VolumeService, transport);
  const rows: Row[] = [];
  try {
    // One small-file tree and one big file, written once; cp measures the disk.
    await Deno.mkdir(`${root}/src/small`, { recursive: true });
    for (let i = 0; i < SMALL_FILES; i++) {
      await Deno.writeFile(`${root}/src/small/f${i}.bin`, content(SMALL_BYTES, i));
    }
    await Deno.writeFile(`${root}/src/big.bin`, content(BIG_BYTES, 7));
    const cpSmall = await timed(() => cp(["-r", `${root}/src/small`, `${root}/cp-small`]));
    const cpBig = await timed(() => cp([`${root}/src/big.bin`, `${root}/cp-big.bin`]));

    for (
      const [label, name, src, bytes, baseSecs, base] of [
        [
          "1,000 × 1 KiB files",
          "small",
          `${root}/src/small`,
          SMALL_FILES * SMALL_BYTES,
          cpSmall,
          "cp -r",
        ],
        ["one 200 MB file", "big", `${root}/src/big.bin`, BIG_BYTES, cpBig, "cp"],
      ] as const
    ) {
      await service.createVolume({ name });
      const writer = new VolumeCopy(
        new VolumeClient(transport, name),
        `${root}/${name}-writer`,
        new ChunkCache(`${root}/${name}-writer-chunks`),
      );
      const reader = new VolumeCopy(
        new VolumeClient(transport, name),
        `${root}/${name}-reader`,
        new ChunkCache(`${root}/${name}-reader-chunks`),
      );
      await writer.load();
      await reader.load();
      // What a function would have written into its mount before committing.
      await cp(["-r", src, `${writer.dir}/`]);
      const commit = await timed(() => writer.commit());
      rows.push(row(`commit ${label}`, bytes, commit, baseSecs, base));
      const reload = await timed(() => reader.reload());
      rows.push(row(`reload ${label} (fresh worker)`, bytes, reload, baseSecs, base));
    }
  } finally {
    close();
    await server.close();
    await store.close();
    await Deno.remove(root, { recursive: true });
  }
  return rows;
}

if (import.meta.main) {
  const { printTable } = await import("./_table.ts");
  printTable("Volumes (commit and reload vs cp, same disk, same run)", await volumeBench());
}

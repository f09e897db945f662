/**
 * `deno task bench`: runs every benchmark and prints one table per area.
 * `deno task bench defaults|ray|core|redis|docker|autoscale|volume|deploy|web` runs one area;
 * `deno task bench cold [N]` runs only the cold start of `defaults`, N times (default 9);
 * `deno task bench memory [R]` only its memory figures, with R maps in a row (default 10).
 */
import { coreBench } from "./core_bench.ts";
import { redisBench } from "./redis_bench.ts";
import { dockerBench } from "./docker_bench.ts";
import { deployBench } from "./deploy_bench.ts";
import { autoscaleBench } from "./autoscale_bench.ts";
import { volumeBench } from "./volume_bench.ts";
import { webBench } from "./web_bench.ts";
import { printTable } from "./_table.ts";
import { defaultsBench } from "./defaults_bench.ts";
import { coldStartRows } from "./_cold_start.ts";
import { rayBench } from "./ray_bench.ts";
import { memoryBench } from "./_memory_bench.ts";

const only = Deno.args[0];
if (!only || only === "defaults") {
  printTable("Default options (issue 14)", await defaultsBench(Number(Deno.args[1] ?? 10)));
}
if (!only || only === "defaults" || only === "ray") {
  printTable("Ray, the peer (its defaults, same machine, same session)", await rayBench());
}
if (only === "cold") {
  printTable(
    "Cold start (issue 14; also part of defaults)",
    await coldStartRows(Number(Deno.args[1] ?? 9)),
  );
}
if (only === "memory") {
  printTable(
    "Memory (issue 14; also part of defaults)",
    await memoryBench(Number(Deno.args[1] ?? 10)),
  );
}
if (!only || only === "core") {
  printTable("Foundation (deno runner, embedded backend)", await coreBench());
}
if (!only || only === "redis") {
  printTable("Redis backend vs BullMQ (same Redis, same run)", await redisBench());
}
if (!only || only === "docker") {
  printTable("Docker runner (same run baselines)", await dockerBench());
}
if (!only || only === "deploy") {
  printTable("Deployed apps (deno runner, embedded backend)", await deployBench());
}
if (!only || only === "autoscale") {
  printTable("Autoscaler (same run baselines)", await autoscaleBench());
}
if (!only || only === "web") {
  printTable("Web endpoints (deno runner, embedded backend, same run baseline)", await webBench());
}
if (!only || only === "volume") {
  printTable("Volumes (commit and reload vs cp, same disk, same run)", await volumeBench());
}

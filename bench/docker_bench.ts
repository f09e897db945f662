/**
 * Docker runner benchmarks, each against a baseline measured in the same run:
 * - cold start: the first call of a fresh app (image cached) against the floor,
 *   `docker run --rm` of the minimal Deno image running nothing;
 * - warm `.remote()` p50 on the docker runner against the deno runner;
 * - first builds of Image.deno() and Image.debianSlim(), forced by fresh tags and
 *   docker's build cache turned off (the Debian one includes debootstrap).
 * Run alone with `deno run -A bench/docker_bench.ts`.
 */
import { create } from "../proto/deps.ts";
import { FunctionDefSchema } from "../proto/messages.ts";
import { DockerRunner } from "../runner/mod.ts";
import { connectDocker, dockerSocketPath } from "../runner/mod.ts";
import { ms, percentile, type Row } from "./_table.ts";
import { runBenchApp } from "./_bench_app_run.ts";

const COLD_RUNS = 5;
const WARM_CALLS = 1000;

/** `docker run --rm IMAGE deno eval 0`, the least a container running Deno costs. */
async function dockerRunFloor(image: string, times: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const { code } = await new Deno.Command("docker", {
      args: ["run", "--rm", "--network", "none", image, "deno", "eval", "0"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (code !== 0) throw new Error(`docker run --rm ${image} failed`);
    samples.push(performance.now() - t);
  }
  return samples;
}

/** Seconds to build an image (on a built-in base) from nothing: fresh tags, no docker build cache. */
async function firstBuild(base: "deno" | "debian-slim", cache: string): Promise<number> {
  const repository = `nano-modal-bench-${crypto.randomUUID().slice(0, 8)}`;
  const runner = new DockerRunner({
    cacheDir: cache,
    imageRepository: repository,
    buildCache: false,
  });
  const def = create(FunctionDefSchema, {
    name: "bench",
    image: { layers: [{ layer: { case: "base", value: base } }] },
  });
  const t = performance.now();
  try {
    await runner.prepare(def, { log: () => {} });
    return (performance.now() - t) / 1000;
  } finally {
    const docker = await connectDocker(dockerSocketPath());
    const images = await docker.listImages({ filters: { reference: [`${repository}/*`] } });
    // Newest first: children before the images they are built on.
    for (const image of images.sort((a, b) => b.Created - a.Created)) {
      for (const tag of image.RepoTags ?? []) {
        await docker.getImage(tag).remove({ force: true }).catch(() => {});
      }
    }
  }
}

/** Runs the docker benchmarks and returns their rows. */
export async function dockerBench(): Promise<Row[]> {
  const cache = await Deno.makeTempDir({ prefix: "nano-modal-docker-bench-" });
  try {
    // The first run builds (or finds) the base image; later runs start cold containers from it.
    await runBenchApp({ runner: "docker", cache }, 10, 0);
    const cold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      cold.push((await runBenchApp({ runner: "docker", cache }, 10, 0)).coldMs);
    }
    const docker = await connectDocker(dockerSocketPath());
    const [base] = (await docker.listImages({ filters: { reference: ["nano-modal/deno"] } }))
      .sort((a, b) => b.Created - a.Created);
    const floor = await dockerRunFloor(base.RepoTags![0], COLD_RUNS);

    const warmDocker = percentile(
      (await runBenchApp({ runner: "docker", cache }, WARM_CALLS, 0)).warm,
      50,
    );
    const warmDeno = percentile(
      (await runBenchApp({ runner: "deno", cache }, WARM_CALLS, 0)).warm,
      50,
    );

    const denoBuild = await firstBuild(
      "deno",
      cache,
    );
    const debianBuild = await firstBuild(
      "debian-slim",
      cache,
    );

    const coldP50 = percentile(cold, 50);
    const floorP50 = percentile(floor, 50);
    return [
      {
        name: "first call of a fresh app, docker (image cached)",
        value: ms(coldP50),
        baseline: `docker run --rm deno eval 0: ${ms(floorP50)}`,
        ratio: `${(coldP50 / floorP50).toFixed(2)}×`,
        goal: "≤ 1.5×",
      },
      {
        name: "warm .remote() p50, docker runner",
        value: ms(warmDocker),
        baseline: `deno runner ${ms(warmDeno)}`,
        ratio: `${(warmDocker / warmDeno).toFixed(2)}×`,
        goal: "≤ 1.2×",
      },
      { name: "first build of Image.deno()", value: `${denoBuild.toFixed(1)} s` },
      {
        name: "first build of Image.debianSlim() (debootstrap)",
        value: `${debianBuild.toFixed(1)} s`,
      },
    ];
  } finally {
    await Deno.remove(cache, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { printTable } = await import("./_table.ts");
  printTable("Docker runner", await dockerBench());
}

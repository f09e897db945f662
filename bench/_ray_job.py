"""Ray's figures for the same work as nano-modal's default-options benchmark.

Run by bench/ray_bench.ts inside a virtualenv that has ray installed. Prints
one JSON object: throughput of a 20,000-item batch of trivial tasks and of
actor calls, p50 latencies of one warm task and one warm actor call, and the
peak RSS of Ray's whole process tree during the task batch. Defaults
everywhere (ray.init() with no arguments but a quiet log).
"""
import json
import os
import sys
import threading
import time

import ray

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
LATENCY_SAMPLES = 500


def tree_rss_mib():
    """RSS of every process of this session's Ray (the driver and its children)."""
    total = 0
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if int(pid) != me and b"ray" not in cmd:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@ray.remote
def identity(x):
    return x


@ray.remote
class Echo:
    def call(self, x):
        return x


def p50(samples):
    s = sorted(samples)
    return s[len(s) // 2]


def main():
    ray.init(logging_level="ERROR", log_to_driver=False)
    # Warm: workers started, functions exported, the actor placed.
    ray.get([identity.remote(i) for i in range(200)])
    actor = Echo.remote()
    ray.get([actor.call.remote(i) for i in range(200)])

    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss_mib())
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t = time.perf_counter()
    out = ray.get([identity.remote(i) for i in range(N)])
    tasks_s = time.perf_counter() - t
    stop.set()
    sampler.join()
    assert out[-1] == N - 1

    t = time.perf_counter()
    out = ray.get([actor.call.remote(i) for i in range(N)])
    actor_s = time.perf_counter() - t
    assert out[-1] == N - 1

    task_ms = []
    for i in range(LATENCY_SAMPLES):
        t = time.perf_counter()
        ray.get(identity.remote(i))
        task_ms.append((time.perf_counter() - t) * 1000)
    actor_ms = []
    for i in range(LATENCY_SAMPLES):
        t = time.perf_counter()
        ray.get(actor.call.remote(i))
        actor_ms.append((time.perf_counter() - t) * 1000)

    print(json.dumps({
        "version": ray.__version__,
        "tasksPerS": N / tasks_s,
        "actorCallsPerS": N / actor_s,
        "taskP50Ms": p50(task_ms),
        "actorP50Ms": p50(actor_ms),
        "peakRssMiB": peak[0],
    }))
    ray.shutdown()


if __name__ == "__main__":
    main()

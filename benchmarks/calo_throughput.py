"""Calorimeter throughput and memory: the simulator's showers per second, and the peak resident
memory of 200,000 showers through simulation, writing and observables — figures measured in one run.

    python benchmarks/calo_throughput.py     # 4,000 showers per core; 200,000 for memory
    python benchmarks/calo_throughput.py --memory-showers 20000 --speed-showers 1000

Speed: the truth simulator (ganplify.calo.simulator), in one process and in as many processes as
--cores (each simulating its own chunk, as the workflow's chunk jobs do), including the
computation but not the writing. Memory: one process runs the workflow's own job functions —
simulate_showers into a chunked getting_high file, then segment_observables over all of it — and
reports its peak resident set size (ru_maxrss) next to the data size, proving that nothing holds the
data set whole. Prints a table and one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

from ganplify.calo.simulator import simulate_chunk
from ganplify.core import seeding

REPO = Path(__file__).resolve().parents[1]


def _simulate(n: int, seed: int) -> float:
    t0 = time.perf_counter()
    total = 0.0
    for showers in simulate_chunk(n, seeding.rng(seed, "bench"), batch=250):
        total += float(showers[:, 0, 0, 0].sum())  # touch the output
    return time.perf_counter() - t0


def speed(n: int, cores: int) -> dict:
    _simulate(200, 0)  # warm-up
    one = _simulate(n, 1)
    with mp.get_context("spawn").Pool(cores) as pool:
        t0 = time.perf_counter()
        pool.starmap(_simulate, [(n, 10 + c) for c in range(cores)])
        wall = time.perf_counter() - t0
    return {"one_core": n / one, f"{cores}_cores": cores * n / wall}


def _memory_job(n: int, workdir: str, queue) -> None:
    from ganplify.jobs.calo_showers import Segment, segment_observables, simulate_showers

    config = yaml.safe_load((REPO / "config.yaml").read_text())["calorimeter"]["studies"]["ild"]
    showers = Path(workdir) / "showers.h5"
    t0 = time.perf_counter()
    simulate_showers(
        showers,
        calo="ild",
        sample="truth",
        index=0,
        n=n,
        sample_cfg=config["truth"],
        detector=config["detector"],
        incident_energy=config["incident_energy"],
        seed=1,
    )
    t1 = time.perf_counter()
    segment_observables(
        Segment(str(showers), "getting_high", 0, n),
        Path(workdir) / "features.h5",
        detector=config["detector"],
    )
    t2 = time.perf_counter()
    queue.put(
        {
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
            "file_gb": showers.stat().st_size / 1e9,
            "simulate_and_write_s": t1 - t0,
            "observables_s": t2 - t1,
        }
    )


def memory(n: int) -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as work:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_memory_job, args=(n, work, queue))
        proc.start()
        result = queue.get()
        proc.join()
    result["data_gb_float32"] = n * 27000 * 4 / 1e9
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--speed-showers", type=int, default=4000, help="showers per process")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--memory-showers", type=int, default=200_000)
    a = p.parse_args(argv)
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    s = speed(a.speed_showers, a.cores)
    print(
        f"# simulator: {s['one_core']:.0f} showers/s on one core, "
        f"{s[f'{a.cores}_cores']:.0f} showers/s on {a.cores} cores",
        flush=True,
    )
    print(json.dumps({"bench": "calo_simulator", "showers_per_process": a.speed_showers, **s}))
    m = memory(a.memory_showers)
    print(
        f"# memory: {a.memory_showers:,} showers ({m['data_gb_float32']:.1f} GB as float32, "
        f"{m['file_gb']:.2f} GB on disk): peak RSS {m['peak_rss_gb']:.2f} GB; simulate+write "
        f"{m['simulate_and_write_s']:.0f} s, observables {m['observables_s']:.0f} s",
        flush=True,
    )
    print(json.dumps({"bench": "calo_memory", "showers": a.memory_showers, **m}))


if __name__ == "__main__":
    sys.exit(main())

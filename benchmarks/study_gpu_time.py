"""GPU time of the full GANplifying study for several packings, from measured per-GAN-epoch costs.

    python benchmarks/study_gpu_time.py                       # the plan, from recorded H100 costs
    python benchmarks/study_gpu_time.py --packs 1 10 110 1100 --costs path/to/bench.txt
    python benchmarks/study_gpu_time.py --measure --pack 110  # on a GPU: time one real block

The cost of one GAN-epoch at K GANs batched comes from ``gan_throughput.py``'s JSON lines (default:
the H100 measurement in benchmarks/results/h100-2026-11-22-graphs/bench.txt, K = 1, 10, 100),
interpolated log-log in K and held at its last value beyond the largest K measured (the engine
gets no slower per GAN with more GANs). A training of N points has N / batch steps per epoch, so a
study on 500 points costs 5x one on 100. For each packing the blocks are those of the workflow
(`advanced.gan_pack` GANs per job, an ensemble never split). With --measure, one block of the real
config
(the paper's network, K = --pack GANs) is trained for a few epochs on this machine's GPU and its
cost per GAN-epoch printed beside the interpolated one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ganplify.core.approaches import APPROACHES
from ganplify.core.config import (
    expand_training_sizes,
    load_config,
    selected_studies,
    study_n_samples,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_COSTS = REPO / "benchmarks/results/h100-2026-11-22-graphs/bench.txt"


def read_costs(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    rows = [r for r in rows if r.get("bench") == "gan_throughput"]
    ks = np.array([r["K"] for r in rows], dtype=float)
    cost = np.array([r["s_per_gan_epoch"] for r in rows])
    order = np.argsort(ks)
    return ks[order], cost[order], rows[0]["device"]


def cost_per_gan_epoch(k: float, ks: np.ndarray, costs: np.ndarray) -> float:
    """Log-log interpolation; flat beyond the measured range."""
    return float(np.exp(np.interp(np.log(k), np.log(ks), np.log(costs))))


def blocks(n_runs: int, members: int, pack: int) -> list[int]:
    """GANs per block of one approach, as rules/common.smk cuts them."""
    size = max(1, pack // members)
    return [min(size, n_runs - lo) * members for lo in range(0, n_runs, size)]


def plan(config: dict, pack: int, ks, costs) -> list[dict]:
    rows = []
    gan = config["gan"]
    for study in selected_studies(config):
        n = study_n_samples(config, study)
        steps_factor = config["studies"][study]["n_train"] / 100  # costs measured on 100 points
        epochs = gan["training"]["epochs"]
        sizes = [
            k
            for a in config["approaches"]
            if APPROACHES[a].trained  # reweighted generators train no GAN
            for k in blocks(n, APPROACHES[a].members(gan), pack)
        ]
        seconds = sum(k * cost_per_gan_epoch(k, ks, costs) * epochs * steps_factor for k in sizes)
        rows.append(
            {
                "study": study,
                "pack": pack,
                "jobs": len(sizes),
                "gans": sum(sizes),
                "gpu_hours": seconds / 3600,
                "longest_block_minutes": max(
                    k * cost_per_gan_epoch(k, ks, costs) * epochs * steps_factor for k in sizes
                )
                / 60,
            }
        )
    return rows


def measure(config: dict, pack: int, epochs: int = 20) -> float:
    import torch

    from ganplify.core import seeding
    from ganplify.densities.truth import CamelBack
    from ganplify.gan.models import GanArchitecture
    from ganplify.gan.training import GanTrainer, TrainingConfig

    arch = GanArchitecture.from_config(config["gan"]["architecture"], dim=1)
    tcfg = TrainingConfig.from_config(config["gan"]["training"])
    data = np.stack([CamelBack().sample(100, seeding.rng(0, "plan", k)) for k in range(pack)])
    trainer = GanTrainer(
        data, arch, tcfg, [seeding.torch_seed(0, "plan", k) for k in range(pack)], device="cuda"
    )
    for _ in range(2):
        trainer.train_epoch()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(epochs):
        trainer.train_epoch()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / (epochs * pack)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--packs", type=int, nargs="+", default=[1, 10, 110, 1100])
    p.add_argument("--costs", type=Path, default=DEFAULT_COSTS)
    p.add_argument("--measure", action="store_true", help="time one real block on this GPU")
    p.add_argument("--pack", type=int, default=110, help="block size for --measure")
    a = p.parse_args(argv)
    config = expand_training_sizes(load_config(REPO / "config.yaml"))  # one study per size
    ks, costs, device = read_costs(a.costs)
    print(
        f"# costs per GAN-epoch from {a.costs.relative_to(REPO)} ({device}): "
        + ", ".join(f"K={k:.0f}: {c:.3g} s" for k, c in zip(ks, costs, strict=True))
    )
    print(
        f"# {'study':>14} {'pack':>5} {'jobs':>5} {'GANs':>6} {'GPU hours':>10} {'longest job':>12}"
    )
    for pack in a.packs:
        rows = plan(config, pack, ks, costs)
        for r in rows:
            print(
                f"# {r['study']:>14} {pack:>5} {r['jobs']:>5} {r['gans']:>6} "
                f"{r['gpu_hours']:>10.2f} {r['longest_block_minutes']:>9.1f} min"
            )
            print(json.dumps({"bench": "study_gpu_time", "device": device, **r}))
        total = sum(r["gpu_hours"] for r in rows)
        print(
            f"# {'all studies':>14} {pack:>5} {sum(r['jobs'] for r in rows):>5} "
            f"{sum(r['gans'] for r in rows):>6} {total:>10.2f}"
        )
    if a.measure:
        import torch

        if not torch.cuda.is_available():
            print("# --measure: no CUDA device here; nothing measured")
            return 0
        measured = measure(config, a.pack)
        print(
            f"# measured on {torch.cuda.get_device_name()}: one block of K={a.pack} paper GANs: "
            f"{measured:.3g} s per GAN-epoch (interpolated: "
            f"{cost_per_gan_epoch(a.pack, ks, costs):.3g})"
        )
        print(
            json.dumps(
                {
                    "bench": "study_gpu_time_block",
                    "device": torch.cuda.get_device_name(),
                    "K": a.pack,
                    "s_per_gan_epoch": measured,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

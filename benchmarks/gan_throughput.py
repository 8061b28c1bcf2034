"""Per-GAN training throughput: the batched engine against a plain per-model PyTorch loop.

    python benchmarks/gan_throughput.py                 # paper's net, K = 1, 10, 100, CPU or CUDA
    python benchmarks/gan_throughput.py --ks 1 10 --epochs 3 --arch demo

Both sides do the same work per GAN and epoch (10 D steps with gradient penalty, 10 G steps on 100
points) and are timed side by side in this run. The loop trains the models one after another, so
its per-GAN time does not depend on K: it is measured on min(K, --loop-models) models. Prints a
table and one JSON line per K:
{"bench": "gan_throughput", "device": ..., "K": ..., "s_per_gan_epoch": ...,
 "loop_s_per_gan_epoch": ..., "ratio_vs_loop": ...}
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from ganplify.core import seeding
from ganplify.densities.truth import CamelBack
from ganplify.gan.models import GanArchitecture
from ganplify.gan.reference import PlainGan
from ganplify.gan.training import GanTrainer, TrainingConfig, float32_matmul_precision

REPO = Path(__file__).resolve().parents[1]


def _demo_architecture() -> GanArchitecture:
    """config/demo.yaml's net (its `gan.architecture` merged over config.yaml's)."""
    base = yaml.safe_load((REPO / "config.yaml").read_text())["gan"]["architecture"]
    demo = yaml.safe_load((REPO / "config/demo.yaml").read_text())["gan"]["architecture"]
    return GanArchitecture.from_config({**base, **demo}, dim=1)


#: "paper": the paper's sizes (GanArchitecture's defaults); "demo": the reduced preset's net.
ARCHS = {"paper": GanArchitecture, "demo": _demo_architecture}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_batched(k, arch, epochs, device, matmul_precision="highest"):
    x = CamelBack().sample(100, seeding.rng(0, "bench"))
    tr = GanTrainer(
        np.repeat(x[None], k, 0),
        arch,
        TrainingConfig(matmul_precision=matmul_precision),
        [seeding.torch_seed(0, "bench", m) for m in range(k)],
        device=device,
    )
    for _ in range(2):  # warm-up; on CUDA the first epoch runs eagerly, the second is captured
        tr.train_epoch()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        tr.train_epoch()
    _sync(device)
    return (time.perf_counter() - t0) / (epochs * k)


def time_loop(k, arch, epochs, device):
    x = torch.as_tensor(CamelBack().sample(100, seeding.rng(0, "bench")), dtype=torch.float32)
    torch.manual_seed(0)
    with torch.device(device):
        gans = [PlainGan(x.to(device), arch) for _ in range(k)]
        for g in gans:
            g.train_epoch()  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(epochs):
            for g in gans:
                g.train_epoch()
        _sync(device)
    return (time.perf_counter() - t0) / (epochs * k)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ks", type=int, nargs="+", default=[1, 10, 100])
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per measurement")
    p.add_argument("--loop-models", type=int, default=4, help="models timed in the plain loop")
    p.add_argument("--arch", choices=sorted(ARCHS), default="paper")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all)")
    p.add_argument(
        "--matmul-precision",
        choices=["highest", "high"],
        default="highest",
        help="float32 matmuls: IEEE (highest) or TF32 tensor cores (high); both sides",
    )
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    name = str(device) if device.type == "cpu" else f"cuda:{torch.cuda.get_device_name(device)}"
    arch = ARCHS[a.arch]()
    print(
        f"# device {name}, {torch.get_num_threads()} CPU threads, arch {a.arch}, "
        f"{a.epochs} timed epochs, float32 matmul precision {a.matmul_precision}",
        flush=True,
    )
    print(f"# {'K':>4} {'batched s/GAN-epoch':>20} {'loop s/GAN-epoch':>17} {'ratio':>7}")
    for k in a.ks:
        with float32_matmul_precision(a.matmul_precision):
            loop = time_loop(min(k, a.loop_models), arch, a.epochs, device)
        batched = time_batched(k, arch, a.epochs, device, a.matmul_precision)
        print(f"# {k:>4} {batched:>20.4f} {loop:>17.4f} {loop / batched:>7.2f}", flush=True)
        print(
            json.dumps(
                {
                    "bench": "gan_throughput",
                    "device": name,
                    "K": k,
                    "s_per_gan_epoch": batched,
                    "loop_s_per_gan_epoch": loop,
                    "ratio_vs_loop": loop / batched,
                    "matmul_precision": a.matmul_precision,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Low-level (3D CNN) classifier throughput, reading showers from HDF5 files as the workflow does.

    python benchmarks/ll_classifier_throughput.py                  # CPU (and CUDA when present)
    python benchmarks/ll_classifier_throughput.py --net paper --showers 4096 --workers 8
    python benchmarks/ll_classifier_throughput.py --compare-bf16   # effect of bf16 on the weights

Writes N truth and N generated showers (simulator and fast stand-in) to chunked, compressed
getting_high files, then times, on each device, one training epoch over the paired batches
(DataLoader with --workers, pinned memory and asynchronous copies on CUDA) and inference on the
generated showers, in showers per second; a "data only" pass times the loader alone. From the
training rate it extrapolates the paper's workload: one epoch over 500,000 generated and 500,000
(tiled) truth showers plus inference on the 500,000 generated showers. With --compare-bf16 it
trains the same network from the same seed on the same batches in float32 and under bfloat16
autocast and reports the maximum and median relative difference of the weights w = h/(1 − h).
Prints a table and one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganplify.calo.formats import ShowerWriter
from ganplify.calo.simulator import FASTSIM, TRUTH, simulate_chunk
from ganplify.calo.streaming import PairedBatches, SliceBatches, loader, slices
from ganplify.core import seeding
from ganplify.dctr.lowlevel import LowLevelConfig, predict_batches, train_network

NETS = {
    "paper": {},
    "demo": {"filters": 16, "hidden": (32, 64, 64), "batch_size": 64},
}
SHAPE = (30, 30, 30)
PAPER_TRAIN, PAPER_INFER = 1_000_000, 500_000  # showers per epoch (500k + tiled truth), inference


def _write(path: Path, n: int, model, seed: int) -> tuple:
    with ShowerWriter(path) as w:
        for showers in simulate_chunk(n, seeding.rng(seed, "ll-bench"), model=model, batch=250):
            w.append(np.full(len(showers), 50.0), showers)
    return (str(path), "getting_high", 0, n)


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def measure(files, cfg: LowLevelConfig, device: str, workers: int) -> dict:
    size = cfg.batch_size // 2
    t, g = slices([files["truth"]], size), slices([files["gen"]], size)
    n_train = sum(s.n for s in g) * 2
    data = PairedBatches(g, t, SHAPE, seed=1)
    t0 = time.perf_counter()
    for x, _ in loader(data, workers=workers, device=device):
        x.to(device, non_blocking=True)
    _sync(device)
    data_only = n_train / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    model, _ = train_network(
        loader(data, workers=workers, device=device), cfg, seed=2, device=device, log_every=0
    )
    _sync(device)
    train_rate = n_train / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    predict_batches(
        model,
        loader(SliceBatches(g, SHAPE), workers=workers, device=device),
        sum(s.n for s in g),
        bf16=cfg.bf16,
    )
    _sync(device)
    infer_rate = sum(s.n for s in g) / (time.perf_counter() - t0)
    minutes = (PAPER_TRAIN / train_rate + PAPER_INFER / infer_rate) / 60
    return {
        "train_showers_per_s": train_rate,
        "infer_showers_per_s": infer_rate,
        "loader_showers_per_s": data_only,
        "paper_workload_minutes": minutes,
    }


def compare_bf16(files, cfg: LowLevelConfig, device: str) -> dict:
    size = cfg.batch_size // 2
    t, g = slices([files["truth"]], size), slices([files["gen"]], size)
    weights = {}
    for bf16 in (False, True):
        c = LowLevelConfig(**{**cfg.__dict__, "bf16": bf16})
        model, _ = train_network(
            loader(PairedBatches(g, t, SHAPE, seed=1), workers=0, device=device),
            c,
            seed=2,
            device=device,
            log_every=0,
        )
        h = predict_batches(
            model,
            loader(SliceBatches(g, SHAPE), workers=0, device=device),
            sum(s.n for s in g),
            bf16=bf16,
        )
        weights[bf16] = h / (1 - h)
    rel = np.abs(weights[True] / weights[False] - 1)
    return {"max_rel_diff_w": float(rel.max()), "median_rel_diff_w": float(np.median(rel))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--net", choices=sorted(NETS), default="demo")
    p.add_argument("--showers", type=int, default=1024, help="truth and generated showers each")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--devices", nargs="+", default=None)
    p.add_argument(
        "--precision",
        choices=["highest", "high"],
        default="highest",
        help="float32 matmul/conv precision on CUDA (high: TF32)",
    )
    p.add_argument("--compare-bf16", action="store_true")
    a = p.parse_args(argv)
    devices = a.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    torch.set_float32_matmul_precision(a.precision)
    torch.backends.cudnn.allow_tf32 = a.precision == "high"
    cfg = LowLevelConfig(**NETS[a.net])
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as d:
        files = {
            "truth": _write(Path(d) / "truth.h5", a.showers, TRUTH, 1),
            "gen": _write(Path(d) / "gen.h5", a.showers, FASTSIM, 2),
        }
        print(
            f"# net {a.net} ({cfg.filters} filters), {a.showers} + {a.showers} showers from "
            f"HDF5, {a.workers} workers, {torch.get_num_threads()} CPU threads"
        )
        for device in devices:
            name = device if device == "cpu" else torch.cuda.get_device_name()
            for bf16 in (False, True) if device != "cpu" else (False,):
                c = LowLevelConfig(**{**cfg.__dict__, "bf16": bf16})
                m = measure(files, c, device, a.workers)
                print(
                    f"# {name:>24} {'bf16' if bf16 else 'fp32'}: train "
                    f"{m['train_showers_per_s']:8.0f}/s, inference "
                    f"{m['infer_showers_per_s']:8.0f}/s, loader alone "
                    f"{m['loader_showers_per_s']:8.0f}/s -> paper workload "
                    f"{m['paper_workload_minutes']:.1f} min",
                    flush=True,
                )
                print(
                    json.dumps(
                        {
                            "bench": "ll_classifier",
                            "device": name,
                            "net": a.net,
                            "bf16": bf16,
                            "workers": a.workers,
                            "precision": a.precision,
                            **m,
                        }
                    ),
                    flush=True,
                )
            if a.compare_bf16:
                r = compare_bf16(files, cfg, device)
                print(
                    f"# {name}: bf16 vs fp32 weights: max rel diff {r['max_rel_diff_w']:.3g}, "
                    f"median {r['median_rel_diff_w']:.3g}",
                    flush=True,
                )
                print(json.dumps({"bench": "ll_bf16_weights", "device": name, "net": a.net, **r}))


if __name__ == "__main__":
    sys.exit(main())

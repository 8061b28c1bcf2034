"""Where one training epoch of K paper GANs spends its GPU time (profile before optimising).

    python benchmarks/profile_gan_epoch.py --k 100            # CUDA
    python benchmarks/profile_gan_epoch.py --k 10 --device cpu

Profiles one eager epoch (every kernel launched from Python) and one replay of the captured CUDA
graph, and prints: the number of kernels per epoch, the GPU time of the kernels summed, the wall
time of the replay, and the kernels that take most of the GPU time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from ganplify.core import seeding
from ganplify.densities.truth import CamelBack
from ganplify.gan.models import GanArchitecture
from ganplify.gan.training import GanTrainer, TrainingConfig


def _paper_gans(k, device, cuda_graph):
    x = CamelBack().sample(100, seeding.rng(0, "bench"))
    seeds = [seeding.torch_seed(0, "bench", m) for m in range(k)]
    data = np.repeat(x[None], k, 0)
    return GanTrainer(
        data, GanArchitecture(), TrainingConfig(), seeds, device=device, cuda_graph=cuda_graph
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args(argv)
    device = torch.device(a.device)
    tr = _paper_gans(a.k, device, cuda_graph=False)
    tr.train_epoch()  # allocations and library initialisation out of the way
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        tr.train_epoch()
        if device.type == "cuda":
            torch.cuda.synchronize()
    events = prof.key_averages()
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(events.table(sort_by=sort, row_limit=a.top, max_name_column_width=60))
    if device.type != "cuda":
        return
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    gpu_ms = sum(e.device_time for e in kernels) / 1e3
    print(f"# eager epoch, K={a.k}: {len(kernels)} kernels, {gpu_ms:.1f} ms of kernel time")

    graphed = _paper_gans(a.k, device, cuda_graph=True)
    for _ in range(3):
        graphed.train_epoch()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(5):
        graphed.train_epoch()
    torch.cuda.synchronize()
    wall = (time.perf_counter() - t0) / 5 * 1e3
    with profile(activities=activities) as prof:
        graphed.train_epoch()
        torch.cuda.synchronize()
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    gpu_ms = sum(e.device_time for e in kernels) / 1e3
    print(
        f"# graph replay, K={a.k}: {wall:.1f} ms wall per epoch; profiled: {len(kernels)} "
        f"kernels, {gpu_ms:.1f} ms of kernel time"
    )


if __name__ == "__main__":
    main()

"""Shower generation throughput: the learned generator (ganplify.calo.learned) next to the
simulator, in showers per second, and the generator's training rate — figures measured in one run.

    python benchmarks/generator_throughput.py                       # CPU, datasets 1 and 2
    python benchmarks/generator_throughput.py --devices cpu cuda    # and a GPU, side by side
    python benchmarks/generator_throughput.py --showers 200 --train-showers 200  # quick

Per geometry: the truth simulator (one process, one core; its cost is the same for every
parametrisation), and the VAE of config.yaml's `calorimeter.trained` architecture on each device:
generation (the decoder, the per-voxel sampling and the decoding to MeV, as `generate_showers`
does it) and training (encoder + decoder, forward and backward, per shower of an epoch). The
network's weights are its initial ones: the cost of a pass does not depend on their values.
Incident energies: the data set's spectrum. Prints a table and one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import yaml

from ganplify.calo import formats, learned
from ganplify.calo.detector import detector_from_config, spectrum_from_config
from ganplify.calo.simulator import TRUTH, simulate_energies
from ganplify.core import seeding
from ganplify.jobs.calo_showers import simulate_showers

REPO = Path(__file__).resolve().parents[1]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def simulator_rate(geometry, spectrum, n: int) -> float:
    rng = seeding.rng(1, "bench", "simulator")
    e = spectrum.sample(n, rng)
    simulate_energies(e[: min(50, n)], rng, model=TRUTH, calorimeter=geometry)  # warm-up
    t0 = time.perf_counter()
    simulate_energies(e, rng, model=TRUTH, calorimeter=geometry)
    return n / (time.perf_counter() - t0)


def generator_rates(path, geometry, spectrum, cfg, device: str, n: int, n_train: int) -> dict:
    data = learned.ShowerSlices([(str(path), formats.CALOCHALLENGE, 0, n_train)], cfg.batch_size)
    trainer = learned.VAETrainer(data, replace(cfg, epochs=2), seed=1, device=device)
    trainer.train_epoch()  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    trainer.train_epoch()
    _sync(device)
    train = data.n / (time.perf_counter() - t0)
    data.close()
    gen = trainer.generator()
    rng = seeding.rng(1, "bench", "generator")
    e = spectrum.sample(n, rng)
    gen.generate(e[: min(100, n)], rng, geometry.shape)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    gen.generate(e, rng, geometry.shape)
    _sync(device)
    return {"generate_showers_per_s": n / (time.perf_counter() - t0), "train_showers_per_s": train}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--geometries", nargs="+", default=["dataset1-photons", "dataset2"])
    p.add_argument("--devices", nargs="+", default=["cpu"])
    p.add_argument("--showers", type=int, default=2000, help="showers generated/simulated")
    p.add_argument("--train-showers", type=int, default=2000, help="showers of a training epoch")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (torch)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    cfg = learned.VAEConfig.from_config(
        yaml.safe_load((REPO / "config.yaml").read_text())["calorimeter"]["trained"]
    )
    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"CPUs, {a.threads} torch thread(s), {cuda}; VAE latent {cfg.latent_dim}, hidden "
        f"{list(cfg.hidden)}, batch {cfg.batch_size}"
    )
    print(f"{'geometry':18s} {'what':28s} {'showers/s':>12s}")
    for name in a.geometries:
        geometry = detector_from_config(name)
        spectrum = spectrum_from_config(None, geometry)
        sim = simulator_rate(geometry, spectrum, a.showers)
        print(f"{name:18s} {'simulator (1 core)':28s} {sim:12.0f}", flush=True)
        print(json.dumps({"bench": "simulator", "geometry": name, "showers_per_s": sim}))
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as work:
            path = Path(work) / "truth.h5"
            simulate_showers(
                path, calo="bench", sample="truth", index=0, n=a.train_showers,
                sample_cfg={"kind": "simulator"}, detector=name, incident_energy=None, seed=2,
            )  # fmt: skip
            for device in a.devices:
                if device == "cuda" and not torch.cuda.is_available():
                    print(f"{name:18s} {'VAE on cuda':28s} {'(no GPU)':>12s}")
                    continue
                r = generator_rates(
                    path, geometry, spectrum, cfg, device, a.showers, a.train_showers
                )
                for what, key in (("generate", "generate_showers_per_s"),
                                  ("train", "train_showers_per_s")):  # fmt: skip
                    print(f"{name:18s} {f'VAE {what} on {device}':28s} {r[key]:12.0f}", flush=True)
                print(json.dumps({"bench": "learned_generator", "geometry": name,
                                  "device": device, **r}))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

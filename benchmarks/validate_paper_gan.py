"""Long validation: full-size GANs with the paper's hyper-parameters (config.yaml's `gan`).

    python benchmarks/validate_paper_gan.py --runs 3            # ~65 min on 2 CPU cores
    python benchmarks/validate_paper_gan.py --runs 10 --device cuda
    python benchmarks/validate_paper_gan.py --runs 3 --set training.gamma=1 --max-minutes 8

``--set section.key=value`` overrides one of config.yaml's `gan` values (a diagnostic variant; the
checkpoint's hyper-parameter hash keeps variants apart) and ``--max-minutes`` stops training after
that much wall time and evaluates the generators where they are.

Trains the GANs of runs 0 … runs−1 of the study exactly as `rule train_block` would (same samples,
same member seeds; members batched, which does not change any member's random stream) and reports,
per run: the per-mode mean and width of 100,000 generated events, the quantile MSE and equivalent
events at K = 10, 20, 50 for 10,000 and 100,000 generated events, and the training sample's own
MSE. Checkpoints every 250 epochs (rerun the same command to resume). Writes
results/validation/paper_gan.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from ganplify.amplification.cells import quantile_edges
from ganplify.amplification.equivalence import equivalent_events
from ganplify.amplification.quantiles import cell_fractions, quantile_mse
from ganplify.core import seeding
from ganplify.core.config import load_config, training_sizes
from ganplify.core.runtime import Preempted
from ganplify.gan.models import GanArchitecture, MemberStreams
from ganplify.gan.training import GanTrainer, TrainingConfig, train
from ganplify.jobs.common import truth_from_config

REPO = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--study", default="camelback_1d")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default="results/validation/paper_gan.json")
    p.add_argument("--checkpoint", default="checkpoints/validation/paper_gan.pt")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--max-minutes", type=float, default=None)
    a = p.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")

    config = load_config(REPO / "config.yaml")
    seed, study_cfg, gan_cfg = config["seed"], config["studies"][a.study], config["gan"]
    for item in a.set:
        key, value = item.split("=", 1)
        section, name = key.split(".")
        if name not in gan_cfg[section]:
            p.error(f"--set {item}: no key gan.{section}.{name} in config.yaml")
        gan_cfg[section][name] = yaml.safe_load(value)
    truth = truth_from_config(study_cfg["truth"])
    runs = range(a.runs)
    samples = np.stack(
        # the study's first training size (config.yaml: the paper's 100 points)
        [
            truth.sample(training_sizes(study_cfg)[0], seeding.sample_rng(seed, a.study, i))
            for i in runs
        ]
    )
    arch = GanArchitecture.from_config(gan_cfg["architecture"], dim=samples.shape[2])
    tcfg = TrainingConfig.from_config(gan_cfg["training"])
    # Run i's GAN is member 0 of approach "gan" of sample i, exactly as the workflow seeds it.
    seeds = [seeding.member_seeds(seed, a.study, "gan", i, 1)[0] for i in runs]
    trainer = GanTrainer(samples, arch, tcfg, seeds, device=a.device)
    t0 = time.time()
    deadline = t0 + 60 * a.max_minutes if a.max_minutes else float("inf")
    try:
        train(
            trainer,
            checkpoint_path=a.checkpoint,
            checkpoint_every=250,
            log_every=250,
            should_stop=lambda: time.time() > deadline,
        )
    except Preempted as stop:
        logging.info("%s", stop)
    elapsed = time.time() - t0
    gen = MemberStreams(
        [seeding.member_seeds(seed, a.study, "gan", i, 1, "generate")[0] for i in runs],
        device=trainer.device,
    )
    events = trainer.generate(100_000, gen)[..., 0]
    report = {
        "device": str(trainer.device),
        "epochs": trainer.epoch,
        "train_seconds_this_process": elapsed,
        "overrides": a.set,
        "runs": [],
    }
    for i in runs:
        ev, x = events[i], samples[i, :, 0]
        r = {"run": i}
        for side, sel, sel_x in (("neg", ev < 0, x < 0), ("pos", ev > 0, x > 0)):
            r[f"{side}_mean"], r[f"{side}_width"] = float(ev[sel].mean()), float(ev[sel].std())
            # The GAN learns its 100-point sample, not the truth: the sample's own modes say how
            # far from ±4 and 1 a perfect learner of this sample would land.
            r[f"sample_{side}_mean"] = float(x[sel_x].mean())
            r[f"sample_{side}_width"] = float(x[sel_x].std())
        r["frac_neg"] = float((ev < 0).mean())
        for k in study_cfg["quantiles"]:
            edges = quantile_edges(truth, k)
            for n in (10_000, 100_000):
                m = float(quantile_mse(cell_fractions(ev[:n], edges)))
                r[f"mse_K{k}_gen{n}"], r[f"neq_K{k}_gen{n}"] = m, float(equivalent_events(m, k))
            r[f"mse_K{k}_sample"] = float(quantile_mse(cell_fractions(x, edges)))
        r["final_d_loss"], r["final_g_loss"] = (float(v) for v in trainer.history[-1][:, i])
        report["runs"].append(r)
        print(json.dumps(r), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

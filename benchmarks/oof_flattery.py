"""Do out-of-fold weights of the fitting events flatter the metrics? (docs/science.md §2.8)

    python benchmarks/oof_flattery.py --seeds 6 --out benchmarks/results/<folder>

On the DCTR paper's eight-Gaussian circle, with a generator of known density (every mode moved by
0.05 and 30 % wider), per seed: fit the default reweighter (boosted trees, cap 50) on 5,000 truth
and 5,000 generated events; then score, against 20,000 evaluation truth events,

- ``oof``: the fitting generated events with their out-of-fold weights (cross-fitting);
- ``fresh``: a fresh draw of 5,000 generated events weighted by the stored reweighter;
- ``unweighted``: the fresh draw unweighted; ``exact``: the fresh draw with the exact p_T/p_G.

Scores: the mean over x1 and x2 of the 20-bin S² in units of its statistical floor (the S² of two
samples of one density at these sizes, the weighted one at its N_eff), and the judge's held-out AUC
(:mod:`ganplify.dctr.judge`, 2,500 evaluation truth events against the first 2,500 scored events).
Prints one JSON line per seed and the means; ``--out`` writes them as CSV.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ganplify.core import seeding
from ganplify.dctr import reweighter as rw_module
from ganplify.dctr.judge import JudgeConfig, judge
from ganplify.dctr.metrics import (
    expected_separation_power_of_equal_samples,
    separation_power,
)
from ganplify.dctr.weights import WeightSettings, effective_sample_size
from ganplify.densities.toys import circle_8


def run_seed(seed: int) -> dict:
    truth = circle_8()
    gen = truth.shifted(0.05, 1.3)
    xt = truth.sample(5000, seeding.rng(seed, "oof", "truth"))
    xg = gen.sample(5000, seeding.rng(seed, "oof", "generated"))
    xf = gen.sample(5000, seeding.rng(seed, "oof", "fresh"))
    xe = truth.sample(20000, seeding.rng(seed, "oof", "evaluation"))
    spec = rw_module.ReweighterSpec(
        classifier={"kind": "boosted"}, weights=WeightSettings(cap=50.0)
    )
    rw, cf = rw_module.fit(xt, xg, spec, seed=seed, identity=("oof",))
    exact = truth.pdf(xf) / gen.pdf(xf)
    scored = {
        "oof": (xg, rw.weights(xg, folds=cf.repeat_fold_gen)[0]),
        "fresh": (xf, rw.weights(xf)[0]),
        "unweighted": (xf, np.ones(len(xf))),
        "exact": (xf, exact / exact.mean()),
    }
    edges = [np.linspace(*np.quantile(xe[:, j], [0.001, 0.999]), 21) for j in range(2)]
    row = {"seed": seed}
    for name, (x, w) in scored.items():
        floor = expected_separation_power_of_equal_samples(len(xe), effective_sample_size(w), 20)
        s2 = np.mean([separation_power(xe[:, j], x[:, j], edges[j], w2=w) for j in range(2)])
        result, _ = judge(
            xe[:2500], x[:2500], w[:2500] / w[:2500].mean(), JudgeConfig(), seed=seed,
            identity=("oof", name),
        )  # fmt: skip
        row |= {
            f"s2_over_floor_{name}": float(s2 / floor),
            f"judge_auc_{name}": result.auc,
            f"judge_auc_err_{name}": result.auc_err,
        }
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    rows = []
    for seed in range(args.seeds):
        rows.append(run_seed(seed))
        print(json.dumps(rows[-1]), flush=True)
    keys = [k for k in rows[0] if k != "seed"]
    means = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    sems = {k: float(np.std([r[k] for r in rows], ddof=1) / np.sqrt(len(rows))) for k in keys}
    print(json.dumps({"mean": means, "standard_error": sems}))
    if args.out is not None:
        import csv

        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "oof_flattery.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main()

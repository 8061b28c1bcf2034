"""The weight cap, chosen out of sample: S², the judge's AUC and N_eff/N against the cap.

    python benchmarks/cap_scan.py results/dctr_toys            # after `make demo` (or the study)

For each DCTR toy of a finished run, the stored reweighter (``reweighter.h5``, fitted on the
fitting events) weights the GAN's *evaluation* events (``gan.h5``: ``evaluation``), which are
scored against the evaluation truth (``truth.h5``: ``test``) — events no fitting step saw
(docs/science.md §2.8). Only the cap changes, for every cap in --caps (and none): the ratio of
the stored classifiers is capped and normalised on the fitting events (their out-of-fold outputs
``h_gen`` of ``weights.h5``), as the reweighter itself does. Scores: the median S² over the
targeted observables (the classifier's inputs) and over the untargeted ones (the summary's), the
judge's held-out AUC (``ganplify.dctr.judge``, the run's ``dctr.judge``), N_eff/N, and the
statistical floor of S² at that N_eff. Prints one row per toy and cap.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from ganplify.core.io import read_dataset
from ganplify.dctr.judge import JudgeConfig, judge_auc
from ganplify.dctr.metrics import expected_separation_power_of_equal_samples, separation_power
from ganplify.dctr.reweighter import load
from ganplify.dctr.weights import WeightSettings, dctr_weights, effective_sample_size
from ganplify.jobs.dctr_toys import (
    TARGETED,
    grid_edges,
    observable_bins,
    toy_centre,
    toy_observables,
)


def scan(folder: Path, toy: str, caps, bins: int, judge: JudgeConfig, seed: int) -> list[dict]:
    rw = load(folder / toy / "reweighter.h5")
    h_fit = read_dataset(folder / toy / "weights.h5", "h_gen")
    x_eval = read_dataset(folder / toy / "gan.h5", "evaluation")
    x_truth = read_dataset(folder / toy / "truth.h5", "test")
    h_eval = rw.h(x_eval)
    grid = grid_edges(x_truth) if x_truth.shape[1] == 2 else None
    obs_t = toy_observables(x_truth, toy_centre(toy), grid)
    obs_g = toy_observables(x_eval, toy_centre(toy), grid)
    edges = {n: observable_bins(n, obs_t[n], bins) for n in obs_t}
    rows = []
    for cap in [*caps, "unweighted"]:
        if cap == "unweighted":
            w, n_capped = np.ones(len(x_eval)), 0
        else:
            settings = WeightSettings(cap=cap, clip_epsilon=rw.spec.weights.clip_epsilon)
            plain = WeightSettings(cap=cap, clip_epsilon=settings.clip_epsilon, normalise=False)
            norm = len(h_fit) / dctr_weights(h_fit, plain)[0].sum()
            w, diag = dctr_weights(h_eval, settings, norm=norm)
            n_capped = diag.n_capped
        s2 = {n: separation_power(obs_t[n], obs_g[n], edges[n], w2=w) for n in obs_t}
        targeted = [v for n, v in s2.items() if n in TARGETED]
        untargeted = [v for n, v in s2.items() if n not in TARGETED]
        auc, err, _ = judge_auc(x_truth, x_eval, w, judge, seed=seed, identity=("cap_scan", toy))
        n_eff = effective_sample_size(w)
        rows.append(
            {
                "toy": toy,
                "cap": "none" if cap is None else cap,
                "median_s2_targeted": float(np.median(targeted)),
                "median_s2_untargeted": float(np.median(untargeted)) if untargeted else np.nan,
                "judge_auc": auc,
                "judge_auc_err": err,
                **{f"s2_{n}": v for n, v in s2.items()},
                "neff_fraction": n_eff / len(w),
                "n_capped": int(n_capped),
                "s2_floor": expected_separation_power_of_equal_samples(len(x_truth), n_eff, bins),
            }
        )
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("folder", type=Path, help="results/dctr_toys of a finished run")
    p.add_argument("--caps", type=float, nargs="+", default=[2, 3, 5, 10, 20, 50, 100])
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    config = yaml.safe_load((args.folder.parent / "config.yaml").read_text())["config"]
    bins, seed = int(config["dctr_toys"]["bins"]), int(config["seed"])
    judge = JudgeConfig.from_config(config["dctr"]["judge"])
    caps = [*args.caps, None]
    print(
        f"# {'toy':<14} {'cap':>10} {'S2 targ.':>9} {'S2 untarg.':>10} {'judge AUC':>13} "
        f"{'N_eff/N':>8} {'capped':>7} {'floor':>8}"
    )
    toys = [
        *config["dctr_toys"]["run"],
        *(f"null_{t}" for t in config["dctr_toys"]["null_tests"]),
    ]
    for toy in toys:
        if not (args.folder / toy / "reweighter.h5").exists():
            continue
        for row in scan(args.folder, toy, caps, bins, judge, seed):
            print(
                f"# {row['toy']:<14} {row['cap']!s:>10} {row['median_s2_targeted']:>9.5f} "
                f"{row['median_s2_untargeted']:>10.5f} {row['judge_auc']:>7.4f}±"
                f"{row['judge_auc_err']:.4f} {row['neff_fraction']:>8.3f} {row['n_capped']:>7} "
                f"{row['s2_floor']:>8.5f}",
                flush=True,
            )
            print(json.dumps({"bench": "cap_scan", **row}))


if __name__ == "__main__":
    main()

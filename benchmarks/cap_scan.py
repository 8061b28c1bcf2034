"""How much of the residual S² does the weight cap cause? S² and N_eff/N against the cap.

    python benchmarks/cap_scan.py results/dctr_toys            # after `make demo` (or the study)

For each DCTR toy of a finished run, the stored out-of-fold classifier outputs h of the generated
events (``weights.h5``: calibrated, never seen by their classifier) become weights
w = min(h/(1 − h), cap), normalised, for every cap in --caps (and none). Each weight set is
scored against an *independent* truth sample drawn exactly from the toy's density (so neither
the classifier nor the weights saw it): S² per observable (the summary's bins), its median, and
N_eff/N. The classifier is not retrained: what changes is only the cap. Prints one row per toy
and cap, and the statistical floor of S² for the sample sizes (``s2_floor``), below which no
cap can go.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ganplify.core import seeding
from ganplify.core.io import read_dataset
from ganplify.dctr.metrics import expected_separation_power_of_equal_samples, separation_power
from ganplify.dctr.weights import WeightSettings, dctr_weights, effective_sample_size
from ganplify.densities.toys import TOYS
from ganplify.jobs.dctr_toys import observable_bins, toy_centre, toy_observables


def scan(folder: Path, toy: str, caps, bins: int, seed: int) -> list[dict]:
    h = read_dataset(folder / toy / "weights.h5", "h_gen")
    x_gen = read_dataset(folder / toy / "gan.h5", "generated")
    truth = TOYS[toy]().sample(len(x_gen), seeding.rng(seed, "cap_scan", toy))
    obs_t, obs_g = toy_observables(truth, toy_centre(toy)), toy_observables(x_gen, toy_centre(toy))
    edges = {n: observable_bins(n, obs_t[n], bins) for n in obs_t}
    rows = []
    for cap in caps:
        w, diag = dctr_weights(h, WeightSettings(cap=cap, normalise=True))
        s2 = {n: separation_power(obs_t[n], obs_g[n], edges[n], w2=w) for n in obs_t}
        n_eff = effective_sample_size(w)
        rows.append(
            {
                "toy": toy,
                "cap": "none" if cap is None else cap,
                "median_s2": float(np.median(list(s2.values()))),
                **{f"s2_{n}": v for n, v in s2.items()},
                "neff_fraction": n_eff / len(w),
                "n_capped": int(diag.n_capped),
                "s2_floor": expected_separation_power_of_equal_samples(len(truth), n_eff, bins),
            }
        )
    unweighted = {n: separation_power(obs_t[n], obs_g[n], edges[n]) for n in obs_t}
    rows.append(
        {
            "toy": toy,
            "cap": "unweighted",
            "median_s2": float(np.median(list(unweighted.values()))),
            **{f"s2_{n}": v for n, v in unweighted.items()},
            "neff_fraction": 1.0,
            "n_capped": 0,
            "s2_floor": expected_separation_power_of_equal_samples(len(truth), len(x_gen), bins),
        }
    )
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("folder", type=Path, help="results/dctr_toys of a finished run")
    p.add_argument("--caps", type=float, nargs="+", default=[2, 3, 5, 10, 20, 50, 100])
    p.add_argument("--bins", type=int, default=50, help="dctr.toys.bins of the run")
    p.add_argument("--seed", type=int, default=2008065)
    a = p.parse_args(argv)
    caps = [*a.caps, None]
    print(f"# {'toy':<11} {'cap':>10} {'median S2':>10} {'N_eff/N':>8} {'capped':>7} {'floor':>8}")
    for toy in TOYS:
        if not (a.folder / toy / "weights.h5").exists():
            continue
        for row in scan(a.folder, toy, caps, a.bins, a.seed):
            print(
                f"# {row['toy']:<11} {row['cap']!s:>10} {row['median_s2']:>10.5f} "
                f"{row['neff_fraction']:>8.3f} {row['n_capped']:>7} {row['s2_floor']:>8.5f}",
                flush=True,
            )
            print(json.dumps({"bench": "cap_scan", **row}))


if __name__ == "__main__":
    main()

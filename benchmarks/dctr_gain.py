"""Does DCTR reweighting raise or lower a generator's equivalent number of events? Paired runs.

    python benchmarks/dctr_gain.py results/camelback_1d [results/camelback_1d_n300 ...]

Reads a finished study's ``quantile_errors.h5`` and, for each generator and its reweighted version
(gan / gan_dctr, ensemble / ensemble_dctr) and each K, prints N_eq of both (largest generated
sample) and their ratio N_eq(reweighted) / N_eq(generator) = mean MSE(generator) / mean
MSE(reweighted), with a percentile bootstrap interval that resamples the *runs* — the same runs for
both, since run i's reweighted events are run i's generated events — so the interval is that of the
change, not of two independent estimates. A ratio whose interval excludes 1 is a change.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np

from ganplify.amplification.equivalence import equivalent_events
from ganplify.core import seeding

PAIRS = (("gan", "gan_dctr"), ("ensemble", "ensemble_dctr"))


def paired_ratio(base: np.ndarray, weighted: np.ndarray, rng, n_resamples: int, level: float):
    ok = np.isfinite(base) & np.isfinite(weighted)
    base, weighted = base[ok], weighted[ok]
    ratio = base.mean() / weighted.mean()
    idx = rng.integers(0, base.size, size=(n_resamples, base.size))
    boot = base[idx].mean(axis=1) / weighted[idx].mean(axis=1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return ratio, lo, hi, base.size


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("studies", nargs="+", type=Path, help="results/{study} folders")
    p.add_argument("--resamples", type=int, default=2000)
    p.add_argument("--level", type=float, default=0.68)
    a = p.parse_args(argv)
    print(f"# study  generator  K  runs  N_eq  N_eq(+DCTR)  ratio [{a.level:.0%} paired interval]")
    for folder in a.studies:
        with h5py.File(folder / "quantile_errors.h5") as f:
            ks = [int(k) for k in f["K"][()]]
            for base, weighted in PAIRS:
                if base not in f or weighted not in f:
                    continue
                mb, mw = f[f"{base}/mse"][()][:, -1], f[f"{weighted}/mse"][()][:, -1]
                for j, k in enumerate(ks):
                    rng = seeding.rng(0, "dctr_gain", folder.name, base, k)
                    r, lo, hi, n = paired_ratio(mb[:, j], mw[:, j], rng, a.resamples, a.level)
                    neq_b = float(equivalent_events(np.nanmean(mb[:, j]), k))
                    neq_w = float(equivalent_events(np.nanmean(mw[:, j]), k))
                    print(
                        f"{folder.name:>20} {base:>9} {k:>4} {n:>4} {neq_b:>8.1f} {neq_w:>8.1f}"
                        f"  {r:.3f} [{lo:.3f}, {hi:.3f}]"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The peer benchmark pooled over seeds: one verdict per task from several runs of
``reweighter_peers.py`` on the same events with different ``--seed``.

    python benchmarks/peers_pooled.py DIR/peers.csv DIR/seeds/demo-seed*.csv

Why: one seed's errors are the bootstrap of its scoring (the judge's and the S² bins') with the
weights held fixed; the reweighters' own randomness (folds, validation splits, trees) is not in
them, and on a few thousand showers it is as large (dataset 1 at demo size: our judge AUC
spreads 0.51-0.55 over 16 seeds against single-seed errors of 0.015). Here every score is the
mean over the seeds, its error
the standard error of that mean (the seed-to-seed spread, which holds both kinds of noise), and
the same rule as ``reweighter_peers.verdict`` is applied to the means; CPU is the mean too.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict

import numpy as np
from reweighter_peers import table, verdict

SCORES = ("median_s2_ratio", "judge_auc", "median_r", "neff_fraction", "cpu_s")


def pool(rows: list[dict]) -> list[dict]:
    """Per (task, reweighter): the mean of each score over the rows (one per seed), with
    ``*_err`` the standard error of the mean of the S² ratio and the judge AUC."""
    groups = defaultdict(list)
    for r in rows:
        groups[(r["task"], r["reweighter"])].append(r)
    out = []
    for (task, name), rs in groups.items():
        row = {"task": task, "reweighter": name, "folds": rs[0]["folds"], "seeds": len(rs)}
        for key in SCORES:
            values = np.array([float(r[key]) for r in rs])
            row[key] = float(values.mean())
            if key in ("median_s2_ratio", "judge_auc"):
                row[f"{key}_err"] = (
                    float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
                )
        out.append(row)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="peers.csv files of the same events")
    args = parser.parse_args(argv)
    rows = []
    for path in args.files:
        with open(path, newline="") as f:
            rows.extend(csv.DictReader(f))
    pooled = pool(rows)
    seeds = {r["seeds"] for r in pooled}
    print(f"pooled over {', '.join(map(str, sorted(seeds)))} seeds ({len(args.files)} files)\n")
    for task in dict.fromkeys(r["task"] for r in pooled):
        task_rows = [r for r in pooled if r["task"] == task]
        if min(r["seeds"] for r in task_rows) < 2:
            print(f"{task}: fewer than 2 seeds, no error to judge by\n")
            continue
        print(table(task_rows))
        print(verdict(task_rows), end="\n\n")


if __name__ == "__main__":
    main()

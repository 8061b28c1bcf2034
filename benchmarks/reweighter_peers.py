"""ganplify's DCTR against the reweighters a physicist would pick instead, scored the same way.

    python benchmarks/reweighter_peers.py results             # after `make demo` (or the study)
    python benchmarks/reweighter_peers.py results --tasks grid_5x5 ild --replicas 30
    python benchmarks/reweighter_peers.py results --folds 5      # every reweighter 5-fold

On the events of a finished run — each DCTR toy's classifier truth sample and GAN events, each
calorimeter study's truth and generated showers (their HL inputs) — every reweighter is
cross-fitted with the same k folds (the run's ``dctr.folds``, or ``--folds``: every event
weighted by a model that never saw it) and scored on events
none of them saw, the run's independent truth sample (the toys' ``test``, the calorimeter's
``judge`` showers):

- ``ganplify``: the workflow's default DCTR (the config's classifier kind and settings, its
  calibration and weight cap);
- ``ganplify-mlp``: the same with the paper's MLP (the config's MLP settings);
- ``sklearn-hgb``: scikit-learn's ``HistGradientBoostingClassifier()`` with default settings,
  w = p/(1 − p), capped like ours;
- ``hep_ml-gb``: hep_ml's ``GBReweighter()`` (defaults; its trees seeded) in its folding form
  (``FoldingReweighter``, k folds), raw (mean 1); ``hep_ml-gb-cap``: the same weights capped
  like ours (the ratio at 5, then mean 1).

Scores: the median over the observables of S²(weighted)/S²(unweighted) against the independent
truth (the summaries' bins), with a Poisson-bootstrap error; the median dilution r; N_eff/N; the
AUC of a fresh judge (the boosted trees of ``dctr.boosted``, cross-fitted) of the independent
truth against the weighted events (three judges of different seeds), with an error from their
spread and a bootstrap; the reweighter's CPU seconds (process time, one thread each; the least of
``--timing-runs`` identical fits, 3 by default: one fit's time varies by ±30 % on a shared
machine, the least is the reweighter's cost). The last lines say, per task, whether ganplify's
default is at least as good as the best peer within the errors (the judge AUC by its distance
from 0.5) and no slower than the slowest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import yaml

from ganplify.core import seeding
from ganplify.core.config import calibration_of, classifier_settings, judge_settings
from ganplify.core.io import read_dataset
from ganplify.dctr.classifiers import classifier_config
from ganplify.dctr.crossfit import cross_fit, fold_ids
from ganplify.dctr.metrics import auc, dilution, separation_power
from ganplify.dctr.weights import WeightSettings, dctr_weights, effective_sample_size

TOYS = ("bimodal_1d", "circle_8", "grid_5x5")


def load_task(results: Path, task: str, config: dict):
    """(x_truth, x_gen, x_judge, obs_truth/gen/judge, edges, mlp settings) of a task."""
    if task in TOYS:
        from ganplify.jobs.dctr_toys import observable_bins, toy_centre, toy_observables

        folder = results / "dctr_toys" / task
        xt = read_dataset(folder / "truth.h5", "truth")
        xj = read_dataset(folder / "truth.h5", "test")
        xg = read_dataset(folder / "gan.h5", "generated")

        def obs(x):
            o = toy_observables(x, toy_centre(task))
            return np.stack(list(o.values()), axis=1), list(o)

        (oj, names), (og, _), (ot, _) = obs(xj), obs(xg), obs(xt)
        bins = int(config["dctr"]["toys"]["bins"])
        edges = [observable_bins(n, oj[:, k], bins) for k, n in enumerate(names)]
        mlp = config["dctr"]["classifier"] | {
            "kind": "mlp",
            "hidden": config["dctr"]["toys"]["classifier_hidden"][task],
        }
        default = config["dctr"]["classifier"]
    else:
        from ganplify.jobs.calo_classifiers import hl_inputs
        from ganplify.jobs.calo_showers import read_features, study_settings
        from ganplify.jobs.calo_summary import observable_edges

        detector = study_settings(config["calorimeter"], task)["detector"]
        folder = results / "calorimeter" / task
        files = {s: folder / s / "features.h5" for s in ("truth", "generated", "judge")}
        if not files["judge"].exists():
            raise SystemExit(f"{files['judge']}: no independent truth sample for {task!r}")
        xt, xg, xj = (hl_inputs(files[s], detector) for s in ("truth", "generated", "judge"))
        ot, og, oj = (read_features(files[s])[0] for s in ("truth", "generated", "judge"))
        edges = observable_edges(oj, int(config["calorimeter"]["n_edges"]))
        mlp = config["calorimeter"]["hl"] | {"kind": "mlp"}
        default = config["calorimeter"]["hl"]
    return xt, xg, xj, oj, og, edges, default, mlp


def ganplify_weights(xt, xg, section, config, seed, task, folds):
    """The weights of the workflow's reweighting of the classifier ``section`` selects."""
    classifier = classifier_settings(config["dctr"], section)
    cf = cross_fit(
        xt,
        xg,
        classifier_config(classifier),
        folds=folds,
        calibration=calibration_of(config["dctr"], section),
        seed=seed,
        identity=("peers", task, classifier["kind"]),
    )
    settings = WeightSettings.from_config(config["dctr"]["weights"])
    return dctr_weights(cf.h_gen, settings, x_gen=xg, x_truth=xt)[0]


def sklearn_weights(xt, xg, cap, seed, folds):
    """k-fold HistGradientBoostingClassifier() (defaults), w = p/(1 − p), capped, mean 1."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    ft, fg = fold_ids(len(xt), folds, rng), fold_ids(len(xg), folds, rng)
    p = np.empty(len(xg))
    for f in range(folds):
        x = np.concatenate([xt[ft != f], xg[fg != f]])
        y = np.r_[np.ones((ft != f).sum()), np.zeros((fg != f).sum())]
        model = HistGradientBoostingClassifier(random_state=seed).fit(x, y)
        p[fg == f] = model.predict_proba(xg[fg == f])[:, 1]
    return capped(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1), cap)


def hep_ml_weights(xt, xg, seed, folds):
    """hep_ml's GBReweighter() (defaults) in its folding form, k folds: its weights scaled to
    estimate p_T/p_G (GBReweighter's total is the target's), not normalised — so that the cap
    applies to the density ratio, as ours does. Its trees get the seed too: left unseeded they
    draw from numpy's global stream, and at 5 folds on the toys their ties broke differently
    from one fit to the next."""
    from hep_ml.reweight import FoldingReweighter, GBReweighter

    base = GBReweighter(gb_args={"random_state": seed})
    rw = FoldingReweighter(base, n_folds=folds, random_state=seed)
    rw.fit(original=xg, target=xt)
    return rw.predict_weights(xg) * len(xg) / len(xt)


def capped(w, cap):
    w = np.minimum(w, cap) if cap is not None else w
    return w / w.mean()


def judge_auc(xj, xg, w, judge, config, seed, task, name, replicas, judges=3):
    """AUC of the boosted-tree judge of the independent truth against the weighted events: the
    mean over ``judges`` judges of different seeds (folds, splits, trees), its error from their
    spread and a Poisson bootstrap of the events (each judge's out-of-fold outputs fixed)."""
    y = np.r_[np.ones(len(xj)), np.zeros(len(xg))]
    sw = np.r_[np.ones(len(xj)), w]
    rng = seeding.rng(seed, "peers", task, name, "auc-bootstrap")
    aucs, boot_var = [], []
    for k in range(judges):
        cf = cross_fit(
            xj,
            xg,
            classifier_config(judge),
            folds=2,
            calibration="none",
            seed=seed,
            identity=("peers", task, name, "judge", k),
            w_gen=w,
        )
        h = np.r_[cf.h_truth, cf.h_gen]
        aucs.append(auc(h, y, sw))
        boot = [auc(h, y, sw * rng.poisson(1.0, len(sw))) for _ in range(replicas // judges)]
        boot_var.append(np.var(boot, ddof=1))
    err = np.sqrt(np.mean(boot_var) + np.var(aucs, ddof=1) / judges)
    return float(np.mean(aucs)), float(err)


def s2_ratio(oj, og, w, edges, seed, task, name, replicas):
    """Median over observables of S²(weighted)/S²(unweighted), and its bootstrap error."""

    def median_ratio(pj, pg):
        ratios = [
            separation_power(oj[:, k], og[:, k], e, w1=pj, w2=pg * w)
            / separation_power(oj[:, k], og[:, k], e, w1=pj, w2=pg)
            for k, e in enumerate(edges)
        ]
        return float(np.median(ratios))

    one_j, one_g = np.ones(len(oj)), np.ones(len(og))
    rng = seeding.rng(seed, "peers", task, name, "s2-bootstrap")
    boot = [
        median_ratio(rng.poisson(1.0, len(oj)).astype(float), rng.poisson(1.0, len(og)))
        for _ in range(replicas)
    ]
    s2 = [separation_power(oj[:, k], og[:, k], e, w2=w) for k, e in enumerate(edges)]
    return median_ratio(one_j, one_g), float(np.std(boot, ddof=1)), float(np.median(s2))


def timed(make, runs: int):
    """``make()``'s result and its least CPU time over ``runs`` calls (they must agree)."""
    result, best = None, float("inf")
    for _ in range(max(1, runs)):
        t0 = time.process_time()
        w = make()
        best = min(best, time.process_time() - t0)
        if result is None:
            result = w
        elif not np.array_equal(result, w):
            raise RuntimeError("a reweighter gave other weights on a rerun: it is not seeded")
    return result, best


def run_task(results, task, config, seed, replicas, timing_runs=3, folds=None):
    """Every reweighter's scores on ``task``, each cross-fitted over ``folds`` folds (default:
    the run's ``dctr.folds``)."""
    folds = int(config["dctr"]["folds"]) if folds is None else int(folds)
    xt, xg, xj, oj, og, edges, default, mlp = load_task(results, task, config)
    cap = config["dctr"]["weights"]["cap"]
    judge = judge_settings(config["dctr"])
    makers = {
        "ganplify": lambda: ganplify_weights(xt, xg, default, config, seed, task, folds),
        "ganplify-mlp": lambda: ganplify_weights(xt, xg, mlp, config, seed, task, folds),
        "sklearn-hgb": lambda: sklearn_weights(xt, xg, cap, seed, folds),
        "hep_ml-gb": lambda: hep_ml_weights(xt, xg, seed, folds),
    }
    rows = []
    weights = {"unweighted": (np.ones(len(xg)), 0.0)}
    for name, make in makers.items():
        w, cpu = weights[name] = timed(make, timing_runs)
        if name == "hep_ml-gb":
            weights[name] = (capped(w, None), cpu)
            weights["hep_ml-gb-cap"] = (capped(w, cap), cpu)
    for name, (w, cpu) in weights.items():
        ratio, ratio_err, s2 = s2_ratio(oj, og, w, edges, seed, task, name, replicas)
        a, a_err = judge_auc(xj, xg, w, judge, config, seed, task, name, replicas)
        r = dilution(oj, og, w_gen=w, rng=seeding.rng(seed, "peers", task, name, "r"))
        rows.append(
            {
                "task": task,
                "reweighter": name,
                "folds": folds,
                "n_truth": len(xt),
                "n_generated": len(xg),
                "n_judge": len(xj),
                "median_s2": s2,
                "median_s2_ratio": ratio,
                "median_s2_ratio_err": ratio_err,
                "median_r": float(np.median(r)),
                "neff_fraction": effective_sample_size(w) / len(w),
                "judge_auc": a,
                "judge_auc_err": a_err,
                "cpu_s": cpu,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


#: A weight set whose N_eff is below this share of its events is unusable (a handful of events
#: carry it: uncapped GBReweighter on the 2D toys reaches N_eff ≈ 1): its judge AUC, with one
#: event against the truth, says nothing; it is shown but not a contender.
MIN_NEFF_FRACTION = 0.01


def closeness(row, key) -> float:
    """The score of ``key`` (lower is better): the judge AUC's distance from 0.5 — a judge of
    identical samples scores 0.5 up to noise on either side (out-of-fold AUCs just below 0.5 are
    common), so 0.47 is no better than 0.53 — and the S² ratio itself."""
    return abs(row[key] - 0.5) if key == "judge_auc" else row[key]


def verdict(rows) -> str:
    """Is ganplify's default at least as good as the best usable peer, within the errors
    (combined in quadrature), and no slower than the slowest peer? Judge AUCs are compared by
    their distance from 0.5 (:func:`closeness`)."""
    ours = next(r for r in rows if r["reweighter"] == "ganplify")
    peers = [r for r in rows if r["reweighter"] not in ("ganplify", "ganplify-mlp", "unweighted")]
    unusable = [r["reweighter"] for r in peers if r["neff_fraction"] < MIN_NEFF_FRACTION]
    slowest = max(peers, key=lambda r: r["cpu_s"])
    peers = [r for r in peers if r["reweighter"] not in unusable]
    out = [f"unusable (N_eff/N < {MIN_NEFF_FRACTION}): {', '.join(unusable)}"] if unusable else []
    for key in ("judge_auc", "median_s2_ratio"):
        best = min(peers, key=lambda r: closeness(r, key))
        err = np.hypot(ours[f"{key}_err"], best[f"{key}_err"])
        ok = closeness(ours, key) <= closeness(best, key) + err
        out.append(
            f"{key} {ours[key]:.4f} vs best peer {best['reweighter']} {best[key]:.4f} "
            f"(± {err:.4f}): {'ok' if ok else 'BEHIND'}"
        )
    ok = ours["cpu_s"] <= slowest["cpu_s"]
    out.append(
        f"cpu {ours['cpu_s']:.1f} s vs slowest peer {slowest['reweighter']} "
        f"{slowest['cpu_s']:.1f} s: {'ok' if ok else 'SLOWER'}"
    )
    return f"{rows[0]['task']}: " + "; ".join(out)


def table(rows) -> str:
    head = (
        "| task | reweighter | folds | median S² ratio | judge AUC | median r | N_eff/N | CPU s |"
    )
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['reweighter']} | {r['folds']} | {r['median_s2_ratio']:.3f} ± "
            f"{r['median_s2_ratio_err']:.3f} | {r['judge_auc']:.3f} ± {r['judge_auc_err']:.3f} "
            f"| {r['median_r']:.2f} | {r['neff_fraction']:.3f} | {r['cpu_s']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="a finished run's results folder")
    parser.add_argument(
        "--tasks", nargs="*", help="toys and calorimeter studies (default: all that ran)"
    )
    parser.add_argument("--replicas", type=int, default=30, help="bootstrap replicas of errors")
    parser.add_argument("--seed", type=int, default=None, help="default: the run's seed")
    parser.add_argument(
        "--timing-runs", type=int, default=3, help="fits per reweighter: the least CPU time counts"
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=None,
        help="cross-fit folds of every reweighter (default: the run's dctr.folds)",
    )
    parser.add_argument(
        "--out", type=Path, help="a folder for peers.csv and peers.md (the table and verdicts)"
    )
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    # imported before the clocks start: no reweighter pays for another's imports
    import hep_ml.reweight  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    config = yaml.safe_load((args.results / "config.yaml").read_text())["config"]
    seed = config["seed"] if args.seed is None else args.seed
    tasks = args.tasks or [
        t for t in TOYS if (args.results / "dctr_toys" / t / "truth.h5").exists()
    ] + [
        c
        for c in config["calorimeter"]["run"]
        if (args.results / "calorimeter" / c / "judge" / "features.h5").exists()
    ]
    all_rows, verdicts = [], []
    for task in tasks:
        rows = run_task(
            args.results, task, config, seed, args.replicas, args.timing_runs, args.folds
        )
        all_rows += rows
        verdicts.append(verdict(rows))
    report = table(all_rows) + "\n\n" + "\n".join(verdicts) + "\n"
    print(report)
    if args.out is not None:
        import csv

        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "peers.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(all_rows[0]))
            writer.writeheader()
            writer.writerows(all_rows)
        (args.out / "peers.md").write_text(report)
    return all_rows


if __name__ == "__main__":
    main()

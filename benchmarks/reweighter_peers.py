"""ganplify's DCTR against the reweighters a physicist would pick instead, judged fairly.

    python benchmarks/reweighter_peers.py results --replicas 5 --out benchmarks/results/<folder>
    python benchmarks/reweighter_peers.py results --tasks circle_8 ild --replicas 3

Every number is out of sample (docs/science.md §2.8). For each task and replica, all four sets of
events are drawn afresh — fitting truth, fitting generated, evaluation truth, evaluation generated
— from the run's truth (the toys' exact densities; the GFlash simulator) and its generator (the
toys' trained GANs and dataset 1's learned generator, rebuilt from the run's files, each drawing
from a new stream; ILD's parametrised fastsim), so the errors hold the events' noise as well as
the fits': mean ± standard error over the replicas.

Every reweighter is fitted on the fitting events only, cross-fitted over the same k folds, and
applied to the evaluation events as a stored function is (each fold's model, combined in log
ratio: the geometric mean):

- ``ganplify``: the workflow's default (the run's config: the trees);
- ``ganplify-mlp``: the same with the paper's MLP;
- ``sklearn-hgb``: scikit-learn's ``HistGradientBoostingClassifier()`` with default settings,
  w = p/(1 − p);
- ``hep_ml-gb``: hep_ml's ``GBReweighter()`` (defaults; its trees seeded) in its folding form.

Every reweighter gets the same post-processing, in two variants: ``cap`` (the ratio capped at the
run's ``dctr.weights.cap``, then normalised on the fitting generated events) and ``cap+rake``
(besides, a raking table fitted on the fitting events — their out-of-fold ratios against the
fitting truth, ``--rake-bins`` bins — applied to the evaluation events, then capped again).

Scores, on evaluation truth against weighted evaluation events: (a) the median S² ratio
(weighted / unweighted) over the observables a reweighter (or raking) targets — the classifier's
inputs; (b) the same over the observables none targets: the toys' x1 ± x2, x1·x2, radius, angle
and 10 × 10 joint histogram; ILD's 115 observables that are not HL inputs; dataset 1's log ratios
of neighbouring layers' energies and each layer's spectrum of voxel energies / E_inc; (c) the
judge's held-out AUC (:mod:`ganplify.dctr.judge`, with its null control); (d) N_eff/N and the fit's
CPU seconds (process time, one thread). The last lines compare ganplify's default with the best
peer (any peer, either variant) on (b) and (c), with the paired error of the gap (the same
events and the same judge for every reweighter of a replica).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ganplify.core import seeding
from ganplify.core.config import reweighter_spec
from ganplify.core.io import read_attrs, read_dataset
from ganplify.dctr import reweighter as rw_module
from ganplify.dctr.crossfit import fold_ids
from ganplify.dctr.judge import JudgeConfig, judge
from ganplify.dctr.metrics import separation_power, separation_power_of_histograms
from ganplify.dctr.raking import fit_rake_table
from ganplify.dctr.weights import effective_sample_size

TOYS = ("bimodal_1d", "circle_8", "grid_5x5")
CALO = ("ild", "dataset1_photons")
#: bins of the voxel-energy spectra per layer: an empty-voxel bin, then log10(E_voxel / E_inc)
VOXEL_EDGES = np.linspace(-7.0, 0.0, 21)


@dataclass
class Events:
    """A replica's events: classifier inputs of the four sets, the evaluation sets' observables
    (``targeted``: which are classifier inputs) with their histogram edges, and for dataset 1
    the evaluation showers' per-layer voxel spectra."""

    xt: np.ndarray
    xg: np.ndarray
    xe: np.ndarray
    xge: np.ndarray
    oe: np.ndarray
    oge: np.ndarray
    names: list
    targeted: np.ndarray
    edges: list
    spectra_e: np.ndarray | None = None
    spectra_ge: np.ndarray | None = None


# -- the tasks' events ----------------------------------------------------------------------------


def _toy_generator(gan_file):
    import torch

    from ganplify.gan.toy import ToyGan, ToyGanConfig

    attrs = read_attrs(gan_file)
    dim = read_dataset(gan_file, "generated").shape[1]
    model = ToyGan(dim, ToyGanConfig.from_config(attrs["gan"]))
    with __import__("h5py").File(gan_file, "r") as f:
        state = {k: torch.from_numpy(v[()]) for k, v in f["generator"].items()}
    model.load_state_dict(state)
    model.eval()
    return model


def toy_events(results: Path, task: str, config: dict, replica: int, seed: int) -> Events:
    import torch

    from ganplify.densities.toys import TOYS as DENSITIES
    from ganplify.jobs.dctr_toys import (
        TARGETED,
        grid_edges,
        observable_bins,
        toy_centre,
        toy_observables,
    )

    truth = DENSITIES[task]()
    n = int(config["dctr_toys"]["n_truth"])
    gan = _toy_generator(results / "dctr_toys" / task / "gan.h5")

    def draw(role):
        if role in ("fit_truth", "evaluation_truth"):
            return truth.sample(n, seeding.rng(seed, "peers", task, replica, role))
        gen = torch.Generator().manual_seed(seeding.torch_seed(seed, "peers", task, replica, role))
        return gan.generate(n, gen)

    xt, xg, xe, xge = (draw(r) for r in ("fit_truth", "fit_gen", "evaluation_truth", "eval_gen"))
    grid = grid_edges(xe) if xe.shape[1] == 2 else None
    ot, og = (
        toy_observables(xe, toy_centre(task), grid),
        toy_observables(xge, toy_centre(task), grid),
    )
    names = list(ot)
    bins = int(config["dctr_toys"]["bins"])
    return Events(
        xt,
        xg,
        xe,
        xge,
        np.stack([ot[k] for k in names], 1),
        np.stack([og[k] for k in names], 1),
        names,
        np.array([k in TARGETED for k in names]),
        [observable_bins(k, ot[k], bins) for k in names],
    )


def voxel_spectra(showers, energies_gev, geometry) -> np.ndarray:
    """Per shower and layer, the counts of its voxels per bin of log10(E_voxel / E_inc) (bin 0:
    the empty voxels): ``(n, layers, 1 + len(VOXEL_EDGES) - 1)``."""
    s = np.asarray(showers, dtype=np.float64)
    frac = s / (1000.0 * np.asarray(energies_gev).reshape(-1, 1))
    out = np.zeros((len(s), geometry.n_layers, len(VOXEL_EDGES)))
    for j, (lo, hi) in enumerate(zip(geometry.offsets[:-1], geometry.offsets[1:], strict=True)):
        f = frac[:, lo:hi]
        empty = f <= 0
        code = np.clip(np.searchsorted(VOXEL_EDGES, np.log10(np.where(empty, 1.0, f))), 1, None)
        code = np.where(empty, 0, np.minimum(code, len(VOXEL_EDGES) - 1))
        for b in range(len(VOXEL_EDGES)):
            out[:, j, b] = (code == b).sum(1)
    return out


def calo_events(results: Path, task: str, config: dict, replica: int, seed: int) -> Events:
    from ganplify.calo.detector import detector_from_config
    from ganplify.calo.features import feature_set
    from ganplify.calo.simulator import FASTSIM, TRUTH, simulate, simulate_energies
    from ganplify.jobs.calo_showers import study_settings, study_spectrum
    from ganplify.jobs.calo_summary import TARGETED_GROUPS, derived_observables, observable_edges

    settings = study_settings(config["calorimeter"], task)
    geometry = detector_from_config(settings["detector"])
    features = feature_set(geometry)
    n = int(settings["truth"]["n_showers"])
    learned = None
    if settings["generator"]["kind"] == "trained":
        from ganplify.jobs.calo_generator import load_generator

        # the generator trained on the most showers (folders named by n_train)
        models = (results / "calorimeter" / task / "generator").glob("*/model.pt")
        model = max(models, key=lambda p: int(p.parent.name))
        learned = load_generator(model)
    spectrum = study_spectrum(settings)

    def draw(role):
        rng = seeding.rng(seed, "peers", task, replica, role)
        if geometry.kind == "cartesian":
            e = np.full(n, float(settings["incident_energy"]))
            model = TRUTH if "truth" in role else FASTSIM
            showers = simulate(n, rng, energy_gev=e[0], model=model, calorimeter=geometry)
        else:
            e = spectrum.sample(n, rng)
            if "truth" in role or learned is None:
                model = TRUTH if "truth" in role else FASTSIM
                showers = simulate_energies(e, rng, model=model, calorimeter=geometry)
            else:
                showers = learned.generate(e, rng, geometry.shape)
        obs = features.compute(showers)
        spectra = voxel_spectra(showers, e, geometry) if geometry.kind != "cartesian" else None
        return obs, e, spectra

    (ot, et, _), (og, eg, _) = draw("fit_truth"), draw("fit_gen")
    (oe, ee, se), (oge, ege, sge) = draw("evaluation_truth"), draw("eval_gen")
    names = list(features.names)
    extra_e, extra_names = derived_observables(oe, names, geometry)
    extra_ge, _ = derived_observables(oge, names, geometry)
    targeted = [features.groups[k] in TARGETED_GROUPS for k in names] + [False] * len(extra_names)
    all_e, all_ge = np.concatenate([oe, extra_e], 1), np.concatenate([oge, extra_ge], 1)
    return Events(
        features.hl(ot, et),
        features.hl(og, eg),
        features.hl(oe, ee),
        features.hl(oge, ege),
        all_e,
        all_ge,
        names + extra_names,
        np.array(targeted),
        observable_edges(all_e, int(config["calorimeter"]["n_edges"])),
        se,
        sge,
    )


# -- the reweighters: (out-of-fold ratios of the fitting events, ratio of new events) ------------


def _clip_ratio(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return p / (1 - p)


def _geometric_mean(ratios):
    return np.exp(np.mean(np.log(np.asarray(ratios)), axis=0))


def ganplify_fit(spec):
    def fit(xt, xg, seed, folds, task):
        plain = spec | {"weights": spec["weights"] | {"cap": None, "rake_bins": 0}, "folds": folds}
        rw, cf = rw_module.fit(
            xt,
            xg,
            rw_module.ReweighterSpec.from_mapping(plain),
            seed=seed,
            identity=("peers", task),
        )
        return _clip_ratio(cf.h_gen), lambda x: _clip_ratio(rw.h(x))

    return fit


def sklearn_fit(xt, xg, seed, folds, task):
    """k-fold HistGradientBoostingClassifier() (defaults), w = p/(1 − p)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    ft, fg = fold_ids(len(xt), folds, rng), fold_ids(len(xg), folds, rng)
    oof, models = np.empty(len(xg)), []
    for f in range(folds):
        x = np.concatenate([xt[ft != f], xg[fg != f]])
        y = np.r_[np.ones((ft != f).sum()), np.zeros((fg != f).sum())]
        model = HistGradientBoostingClassifier(random_state=seed).fit(x, y)
        # the prior odds of unequal classes, as ours: p/(1 − p) estimates p_T/p_G
        prior = (fg != f).sum() / (ft != f).sum()
        oof[fg == f] = _clip_ratio(model.predict_proba(xg[fg == f])[:, 1]) * prior
        models.append((model, prior))

    def new(x):
        return _geometric_mean([_clip_ratio(m.predict_proba(x)[:, 1]) * p for m, p in models])

    return oof, new


def hep_ml_fit(xt, xg, seed, folds, task):
    """hep_ml's GBReweighter() (defaults, its trees seeded) in its folding form: its weights
    scaled to estimate p_T/p_G (GBReweighter's total is the target's)."""
    from hep_ml.reweight import FoldingReweighter, GBReweighter

    base = GBReweighter(gb_args={"random_state": seed})
    rw = FoldingReweighter(base, n_folds=folds, random_state=seed)
    rw.fit(original=xg, target=xt)
    scale = len(xg) / len(xt)
    oof = rw.predict_weights(xg) * scale
    return oof, lambda x: rw.predict_weights(x, vote_function=_geometric_mean) * scale


# -- post-processing and scores -------------------------------------------------------------------


def post_process(oof, ratio_eval, ev: Events, cap, rake_bins: int | None):
    """The evaluation events' weights: capped, optionally raked by a table fitted on the fitting
    events (their out-of-fold ratios against the fitting truth) and capped again, normalised on
    the fitting generated events."""

    def process(r, x, table):
        r = np.minimum(r, cap) if cap is not None else r
        if table is not None:
            r = r * table.factor(x)
            r = np.minimum(r, cap) if cap is not None else r
        return r

    table = None
    if rake_bins and ev.xg.shape[1] > 1:
        capped = np.minimum(oof, cap) if cap is not None else oof
        table = fit_rake_table(capped, ev.xg, ev.xt, bins=rake_bins, iterations=10)
    norm = len(oof) / process(oof, ev.xg, table).sum()
    return process(ratio_eval, ev.xge, table) * norm


def s2_ratios(ev: Events, w) -> np.ndarray:
    """Per observable S²(weighted)/S²(unweighted) of the evaluation events, then per layer the
    voxel spectra's."""
    out = []
    for j, e in enumerate(ev.edges):
        plain = separation_power(ev.oe[:, j], ev.oge[:, j], e)
        weighted = separation_power(ev.oe[:, j], ev.oge[:, j], e, w2=w)
        out.append(weighted / plain if plain > 0 else np.nan)
    if ev.spectra_e is not None:
        t = ev.spectra_e.sum(0)
        for j in range(t.shape[0]):
            g, gw = ev.spectra_ge[:, j].sum(0), (w[:, None] * ev.spectra_ge[:, j]).sum(0)
            plain = separation_power_of_histograms(t[j] / t[j].sum(), g / g.sum())
            weighted = separation_power_of_histograms(t[j] / t[j].sum(), gw / gw.sum())
            out.append(weighted / plain if plain > 0 else np.nan)
    return np.asarray(out)


def targeted_mask(ev: Events) -> np.ndarray:
    extra = 0 if ev.spectra_e is None else ev.spectra_e.shape[1]
    return np.concatenate([ev.targeted, np.zeros(extra, dtype=bool)])


def replica_rows(results, task, config, replica, seed, folds, rake_bins, judge_cfg):
    """Every reweighter's scores on one replica of ``task``."""
    make = toy_events if task in TOYS else calo_events
    ev = make(results, task, config, replica, seed)
    section = "toy" if task in TOYS else "calo_hl"
    spec = reweighter_spec(config, section, toy=task if task in TOYS else None)
    mlp = dict(spec)
    if spec["classifier"]["kind"] == "boosted":
        source = config["dctr"]["classifier"] if task in TOYS else config["calorimeter"]["hl"]
        mlp_classifier = dict(source) | {"kind": "mlp"}
        if task in TOYS:
            mlp_classifier["hidden"] = config["dctr_toys"]["classifier_hidden"][task]
        mlp |= {"classifier": mlp_classifier, "calibration": config["dctr"]["calibration"]}
    fitters = {
        "ganplify": ganplify_fit(spec),
        "ganplify-mlp": ganplify_fit(mlp),
        "sklearn-hgb": sklearn_fit,
        "hep_ml-gb": hep_ml_fit,
    }
    cap = config["dctr"]["weights"]["cap"]
    targeted = targeted_mask(ev)
    weights = {"unweighted": (np.ones(len(ev.xge)), 0.0)}
    rseed = int(seeding.torch_seed(seed, "peers", task, replica, "fits") % 2**31)
    for name, fit in fitters.items():
        t0 = time.process_time()
        oof, new = fit(ev.xt, ev.xg, rseed, folds, task)
        ratio_eval = new(ev.xge)
        cpu = time.process_time() - t0
        weights[f"{name}/cap"] = (post_process(oof, ratio_eval, ev, cap, None), cpu)
        if ev.xg.shape[1] > 1:
            weights[f"{name}/cap+rake"] = (post_process(oof, ratio_eval, ev, cap, rake_bins), cpu)
    rows = []
    for label, (w, cpu) in weights.items():
        ratios = s2_ratios(ev, w)
        # one judge identity per replica (its folds, trees' seeds and bootstrap): every weight
        # set is judged by the same judge, so that differences between reweighters are paired
        result, _ = judge(ev.xe, ev.xge, w, judge_cfg, seed=seed, identity=("peers", task, replica))
        rows.append(
            {
                "task": task,
                "replica": replica,
                "reweighter": label,
                "n": len(ev.xge),
                "s2_ratio_targeted": float(np.nanmedian(ratios[targeted])),
                "s2_ratio_untargeted": float(np.nanmedian(ratios[~targeted]))
                if (~targeted).any()
                else float("nan"),
                "judge_auc": result.auc,
                "judge_auc_null": result.auc_null,
                "neff_fraction": effective_sample_size(w) / len(w),
                "cpu_s": cpu,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


# -- tables and verdicts --------------------------------------------------------------------------

SCORES = ("s2_ratio_targeted", "s2_ratio_untargeted", "judge_auc", "judge_auc_null")


def pooled(rows) -> list[dict]:
    """Mean and standard error over the replicas, per task and reweighter."""
    out = []
    keys = dict.fromkeys((r["task"], r["reweighter"]) for r in rows)
    for task, name in keys:
        mine = [r for r in rows if r["task"] == task and r["reweighter"] == name]
        row = {"task": task, "reweighter": name, "replicas": len(mine)}
        for k in (*SCORES, "neff_fraction", "cpu_s"):
            v = np.array([r[k] for r in mine], dtype=float)
            row[k] = float(np.mean(v))
            row[f"{k}_err"] = float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan
        out.append(row)
    return out


def verdict(rows, summary, task: str) -> str:
    """ganplify's default (trees, cap) against the best peer variant (by its mean) on (b) the
    untargeted S² ratio and (c) the judge's AUC (its distance from 0.5). The error of the gap is
    the paired one: the standard error over replicas of the per-replica difference (both scored
    on the same events by the same judge)."""
    mine = {r["reweighter"]: r for r in summary if r["task"] == task}
    ours = mine["ganplify/cap"]
    peers = [r for k, r in mine.items() if k.split("/")[0] in ("sklearn-hgb", "hep_ml-gb")]
    out = []
    for key in ("s2_ratio_untargeted", "judge_auc"):
        if not np.isfinite(ours[key]):
            out.append(f"{key} n/a")
            continue

        def score(r, key=key):
            return abs(r[key] - 0.5) if key == "judge_auc" else r[key]

        best = min(peers, key=score)
        per_replica = {}
        for r in rows:
            if r["task"] == task and r["reweighter"] in ("ganplify/cap", best["reweighter"]):
                per_replica.setdefault(r["replica"], {})[r["reweighter"]] = score(r)
        diffs = np.array(
            [d["ganplify/cap"] - d[best["reweighter"]] for d in per_replica.values() if len(d) == 2]
        )
        gap = float(diffs.mean())
        err = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else np.nan
        state = "ahead or level" if gap <= err else f"BEHIND by {gap:.3f}"
        out.append(
            f"{key} {ours[key]:.3f} ± {ours[f'{key}_err']:.3f} vs best peer {best['reweighter']} "
            f"{best[key]:.3f} ± {best[f'{key}_err']:.3f}: gap {gap:+.3f} ± {err:.3f} (paired, "
            f"{len(diffs)} replicas): {state}"
        )
    return f"{task}: " + "; ".join(out)


def table(rows) -> str:
    head = (
        "| task | reweighter | S² ratio, targeted | S² ratio, untargeted | judge AUC | null AUC "
        "| N_eff/N | CPU s |"
    )
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        cells = [f"{r[k]:.3f} ± {r[f'{k}_err']:.3f}" for k in SCORES]
        lines.append(
            f"| {r['task']} | {r['reweighter']} | {' | '.join(cells)} | {r['neff_fraction']:.3f} "
            f"| {r['cpu_s']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="a finished run's results folder")
    parser.add_argument("--tasks", nargs="*", help="toys and calorimeter studies (default: all)")
    parser.add_argument("--replicas", type=int, default=5, help="fresh draws of every event set")
    parser.add_argument("--seed", type=int, default=None, help="default: the run's seed")
    parser.add_argument("--folds", type=int, default=None, help="default: the run's dctr.folds")
    parser.add_argument("--rake-bins", type=int, default=10, help="bins of the raking variant")
    parser.add_argument("--out", type=Path, help="a folder for peers.csv, pooled.csv, peers.md")
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)
    import hep_ml.reweight  # noqa: F401 - imported before the clocks start
    import sklearn.ensemble  # noqa: F401

    config = yaml.safe_load((args.results / "config.yaml").read_text())["config"]
    seed = config["seed"] if args.seed is None else args.seed
    folds = int(config["dctr"]["folds"]) if args.folds is None else int(args.folds)
    judge_cfg = JudgeConfig.from_config(config["dctr"]["judge"])
    tasks = args.tasks or [t for t in TOYS if (args.results / "dctr_toys" / t).exists()] + [
        c for c in CALO if (args.results / "calorimeter" / c).exists()
    ]
    rows = []
    for task in tasks:
        for replica in range(args.replicas):
            rows += replica_rows(
                args.results, task, config, replica, seed, folds, args.rake_bins, judge_cfg
            )
    summary = pooled(rows)
    report = table(summary) + "\n\n" + "\n".join(verdict(rows, summary, t) for t in tasks) + "\n"
    print(report)
    if args.out is not None:
        import csv

        args.out.mkdir(parents=True, exist_ok=True)
        for name, data in (("peers.csv", rows), ("pooled.csv", summary)):
            with open(args.out / name, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(data[0]))
                writer.writeheader()
                writer.writerows(data)
        (args.out / "peers.md").write_text(report)
    return rows


if __name__ == "__main__":
    main()

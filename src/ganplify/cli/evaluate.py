"""``ganplify evaluate``: score a generator's CaloChallenge file against a reference file.

The wiring of the command (the science lives in the parts it calls):

1. both files are checked before anything else (:func:`ganplify.calo.formats.inspect`: structure,
   voxel count of the data set, incident energies), and so is the weights file;
2. each file is read once in chunks (every chunk's values checked by
   :func:`ganplify.calo.formats.check_values`: NaN, inf, negative energies), collecting what the
   metrics need: the challenge's high-level features and cls-high vector
   (:mod:`ganplify.calo.challenge_features`), the cls-low inputs, the PRDC inputs; no training
   starts before both files have been read through;
3. the metrics: S² per feature in the challenge's histograms (:func:`ganplify.dctr.metrics.
   separation_power`), FPD and KPD on the cls-high vector (:mod:`ganplify.dctr.distances`),
   PRDC on the voxels (:mod:`ganplify.dctr.prdc`), the project's tree judge on the cls-high vector
   (:mod:`ganplify.dctr.judge`, settings ``dctr.judge`` of the config; with weights, its null
   control too), and the challenge's classifier metric on cls-high and cls-low
   (:mod:`ganplify.dctr.challenge_classifier`);
4. ``scores.csv`` (one row per metric, rewritten after each), ``s2.csv``, the classifiers'
   histories and figures, into the output folder.

With a weights file every metric is computed for the weighted generator; the cheap ones (S²,
FPD/KPD, PRDC, the tree judge) also without the weights, for comparison.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..calo import challenge_features as cf
from ..calo import formats
from ..calo.challenge import CylindricalGeometry, dataset_geometry
from ..calo.features import feature_set
from ..core import seeding
from ..core.io import write_csv
from ..core.progress import progress as progress_bar
from ..dctr import distances
from ..dctr.challenge_classifier import ChallengeClassifierConfig, classifier_metric
from ..dctr.metrics import separation_power
from ..dctr.prdc import challenge_inputs, nearest_neighbour_radii, prdc

log = logging.getLogger("ganplify")

#: the challenge's data-set names → ganplify's geometries
DATASETS = {
    "1-photons": "dataset1-photons",
    "1-pions": "dataset1-pions",
    "2": "dataset2",
    "3": "dataset3",
}
#: every metric, in the order they are computed
METRICS = ("hist", "fpd", "kpd", "judge", "cls-high", "cls-low", "prdc")
SCORE_COLUMNS = ["metric", "weighted", "value", "error", "n_reference", "n_generated", "note"]
S2_COLUMNS = ["feature", "group", "n_bins", "s2", "s2_weighted"]
#: the challenge's FPD and KPD settings (jetnet's defaults, min_samples 10,000, batches 10,000)
FPD = {"min_samples": 10_000, "max_samples": 50_000, "n_batches": 20, "n_points": 10}
KPD = {"n_batches": 10, "batch_size": 10_000}


class EvaluateError(ValueError):
    """A problem with the command's input (a file, the weights, an option), named."""


@dataclass
class Settings:
    """What ``ganplify evaluate`` computes, and how."""

    dataset: str
    metrics: Sequence[str] = METRICS
    classifier: ChallengeClassifierConfig = field(default_factory=ChallengeClassifierConfig)
    #: the tree judge: classifier settings, folds and calibration (from the config's ``dctr``)
    judge: Mapping | None = None
    prdc_k: int = 5
    #: showers per sample in PRDC (None: all)
    prdc_showers: int | None = None
    seed: int = 2008065
    threads: int = 1
    device: str = "cpu"
    chunk: int = 2000
    show_progress: bool = True
    figures: bool = True


@dataclass
class Sample:
    """What one pass over a shower file collects."""

    source: formats.ShowerFile
    energies_gev: np.ndarray
    features: np.ndarray
    cls_high: np.ndarray
    cls_low: np.ndarray | None = None
    prdc: np.ndarray | None = None
    #: the showers of ``prdc``, by index in the file
    prdc_index: np.ndarray | None = None
    voxel_max: float = 0.0
    #: the voxel-energy histogram (the challenge's edges), unweighted and weighted
    voxel_hist: np.ndarray | None = None
    voxel_hist_weighted: np.ndarray | None = None


def geometry_of(dataset: str) -> CylindricalGeometry:
    if dataset not in DATASETS:
        raise EvaluateError(f"--dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    return dataset_geometry(DATASETS[dataset])


def read_weights(path, key: str, n_generated: int, generated) -> np.ndarray:
    """Per-shower weights of the generated file from dataset ``key`` of HDF5 file ``path``."""
    import h5py

    path = Path(path)
    if not path.exists():
        raise EvaluateError(f"{path}: no such weights file")
    try:
        with h5py.File(path, "r") as f:
            if key not in f:
                raise EvaluateError(f"{path}: no dataset '{key}' (the weights; --weights-key)")
            w = np.asarray(f[key][()], dtype=np.float64).reshape(-1)
    except OSError as err:
        raise EvaluateError(f"{path}: not a readable HDF5 file ({err})") from None
    if len(w) != n_generated:
        raise EvaluateError(
            f"{path}, dataset '{key}': {len(w)} weights, but {generated} holds {n_generated} "
            "showers: one weight per generated shower, in the file's order"
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise EvaluateError(
            f"{path}, dataset '{key}': {int(bad.sum())} weights not finite and >= 0, the first "
            f"is shower {int(np.argmax(bad))} ({w[np.argmax(bad)]})"
        )
    if w.sum() <= 0:
        raise EvaluateError(f"{path}, dataset '{key}': every weight is 0")
    return w


def read_sample(
    source: formats.ShowerFile,
    geometry: CylindricalGeometry,
    *,
    cls_low: bool,
    prdc_index: np.ndarray | None,
    chunk: int,
    progress: Callable[[Iterable, str, int], Iterable],
    voxel_edges: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> Sample:
    """One pass over ``source`` in chunks, every chunk's values checked (module docstring)."""
    threshold = geometry.feature_threshold_mev
    fs = feature_set(geometry)  # the workflow's features of a geometry: the challenge's here
    energies, feats, high, low, prd = [], [], [], [], []
    voxel_max = 0.0
    hist = None if voxel_edges is None else np.zeros(len(voxel_edges) - 1)
    hist_w = None if hist is None or weights is None else np.zeros_like(hist)
    chunks = formats.iter_showers(source, chunk)
    n_chunks = -(-source.n_showers // chunk)
    offset = 0
    for e, s in progress(chunks, f"reading {Path(source.path).name}", n_chunks):
        formats.check_values(source, e, s, offset)
        s = s.reshape(len(e), -1)
        f = fs.compute(s)
        energies.append(e)
        feats.append(f)
        high.append(fs.hl(f, e))
        kept = np.where(s < threshold, 0.0, s.astype(np.float64))
        voxel_max = max(voxel_max, float(kept.max(initial=0.0)))
        if cls_low:
            e_mev = 1000.0 * e[:, None]
            low.append(np.hstack([np.log10(e_mev), kept / e_mev]).astype(np.float32))
        if prdc_index is not None:
            sel = prdc_index[(prdc_index >= offset) & (prdc_index < offset + len(e))] - offset
            prd.append(challenge_inputs(s[sel], threshold))
        if hist is not None:
            hist += np.histogram(kept.reshape(-1), bins=voxel_edges)[0]
        if hist_w is not None:
            w = np.repeat(weights[offset : offset + len(e)], s.shape[1])
            hist_w += np.histogram(kept.reshape(-1), bins=voxel_edges, weights=w)[0]
        offset += len(e)
    return Sample(
        source=source,
        energies_gev=np.concatenate(energies),
        features=np.concatenate(feats),
        cls_high=np.concatenate(high),
        cls_low=np.concatenate(low) if cls_low else None,
        prdc=np.concatenate(prd) if prdc_index is not None else None,
        prdc_index=prdc_index,
        voxel_max=voxel_max,
        voxel_hist=hist,
        voxel_hist_weighted=hist_w,
    )


def voxel_histogram(source, geometry, edges, chunk, progress) -> np.ndarray:
    """The histogram of every voxel energy (after the threshold) of ``source``: a second pass
    over the reference, whose largest voxel sets the edges."""
    threshold = geometry.feature_threshold_mev
    hist = np.zeros(len(edges) - 1)
    n_chunks = -(-source.n_showers // chunk)
    chunks = formats.iter_showers(source, chunk)
    for e, s in progress(chunks, f"voxel energies of {Path(source.path).name}", n_chunks):
        s = s.reshape(len(e), -1).astype(np.float64)
        hist += np.histogram(np.where(s < threshold, 0.0, s).reshape(-1), bins=edges)[0]
    return hist


def _hist_s2(h_ref: np.ndarray, h_gen: np.ndarray) -> float:
    from ..dctr.metrics import separation_power_of_histograms

    def norm(h):
        return h / h.sum() if h.sum() > 0 else h

    return separation_power_of_histograms(norm(h_ref), norm(h_gen))


def s2_rows(ref: Sample, gen: Sample, geometry, w_gen=None) -> tuple[list[dict], dict]:
    """S² of every feature in the challenge's histograms, unweighted and (with ``w_gen``)
    weighted; and the histogram inputs for the figures."""
    names, groups = cf.feature_names(geometry)
    group_of = dict(zip(names, groups, strict=True))
    columns = {n: i for i, n in enumerate(names)}
    e_ref_mev, e_gen_mev = 1000 * ref.energies_gev, 1000 * gen.energies_gev
    values = {
        "e_tot_over_e_inc": (
            ref.features[:, 0] / e_ref_mev,
            gen.features[:, 0] / e_gen_mev,
        )
    }
    group_of["e_tot_over_e_inc"] = "energy"
    for name in names[1:]:
        values[name] = (ref.features[:, columns[name]], gen.features[:, columns[name]])
    rows, panels = [], {}
    for name, (a, b) in values.items():
        edges = cf.histogram_edges(name, geometry, a)
        row = {"feature": name, "group": group_of[name], "n_bins": len(edges) - 1}
        row["s2"] = separation_power(a, b, edges)
        row["s2_weighted"] = "" if w_gen is None else separation_power(a, b, edges, None, w_gen)
        rows.append(row)
        panels[name] = (a, b, edges, row)
    if str(geometry.name).startswith("dataset1"):
        for i in range(15):  # the challenge's per-energy E_tot / E_inc panels
            lo, hi = 2.0 ** (8 + i), 2.0 ** (9 + i)
            in_ref = (e_ref_mev >= lo) & (e_ref_mev < hi)
            in_gen = (e_gen_mev >= lo) & (e_gen_mev < hi)
            if not in_ref.any() or not in_gen.any():
                continue
            name = f"e_tot_over_e_inc_at_{int(lo)}MeV"
            edges = cf.energy_ratio_edges(lo, geometry)
            a = ref.features[in_ref, 0] / e_ref_mev[in_ref]
            b = gen.features[in_gen, 0] / e_gen_mev[in_gen]
            row = {"feature": name, "group": "energy", "n_bins": len(edges) - 1}
            row["s2"] = separation_power(a, b, edges)
            wb = None if w_gen is None else w_gen[in_gen]
            row["s2_weighted"] = "" if wb is None else separation_power(a, b, edges, None, wb)
            rows.append(row)
    if ref.voxel_hist is not None and gen.voxel_hist is not None:
        row = {"feature": "voxel_energy", "group": "voxels", "n_bins": len(ref.voxel_hist)}
        row["s2"] = _hist_s2(ref.voxel_hist, gen.voxel_hist)
        weighted = gen.voxel_hist_weighted
        row["s2_weighted"] = "" if weighted is None else _hist_s2(ref.voxel_hist, weighted)
        rows.append(row)
    return rows, panels


def _fpd_kpd_settings(n: int) -> tuple[dict, dict]:
    """The challenge's FPD/KPD settings, batch sizes capped by the samples (as the workflow's
    ``calo_metrics`` job caps them)."""
    fpd = dict(FPD, min_samples=min(FPD["min_samples"], n), max_samples=min(FPD["max_samples"], n))
    if fpd["min_samples"] >= fpd["max_samples"]:
        fpd["min_samples"] = max(2, fpd["max_samples"] // 2)
    return fpd, dict(KPD, batch_size=min(KPD["batch_size"], n))


def evaluate(
    reference,
    generated,
    out,
    settings: Settings,
    *,
    weights=None,
    weights_key: str = "weights",
) -> list[dict]:
    """Score ``generated`` (optionally weighted) against ``reference``; write the results into
    folder ``out``. Returns the rows of ``scores.csv``."""
    geometry = geometry_of(settings.dataset)
    unknown = sorted(set(settings.metrics) - set(METRICS))
    if unknown:
        raise EvaluateError(f"unknown metrics {unknown}: choose from {', '.join(METRICS)}")
    if "judge" in settings.metrics and settings.judge is None:
        raise EvaluateError("the tree judge needs its settings (the config's dctr section)")
    e_range = geometry.spectrum.range_gev
    ref_src = formats.inspect(reference, geometry, formats.CALOCHALLENGE, e_range)
    gen_src = formats.inspect(generated, geometry, formats.CALOCHALLENGE, e_range)
    w = None
    if weights is not None:
        w = read_weights(weights, weights_key, gen_src.n_showers, generated)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    def progress(items, desc, total=None):
        return progress_bar(items, total=total, desc=desc, enabled=settings.show_progress)

    metrics = set(settings.metrics)
    prdc_index = {}
    if "prdc" in metrics:
        for name, src in (("reference", ref_src), ("generated", gen_src)):
            n = src.n_showers if settings.prdc_showers is None else settings.prdc_showers
            rng = seeding.rng(settings.seed, "evaluate", "prdc", name)
            idx = np.arange(src.n_showers)
            prdc_index[name] = idx if n >= src.n_showers else np.sort(rng.permutation(idx)[:n])
    want_low = "cls-low" in metrics
    ref = read_sample(
        ref_src,
        geometry,
        cls_low=want_low,
        prdc_index=prdc_index.get("reference"),
        chunk=settings.chunk,
        progress=progress,
    )
    edges = cf.voxel_energy_edges(ref.voxel_max, geometry) if "hist" in metrics else None
    gen = read_sample(
        gen_src,
        geometry,
        cls_low=want_low,
        prdc_index=prdc_index.get("generated"),
        chunk=settings.chunk,
        progress=progress,
        voxel_edges=edges,
        weights=w,
    )
    n_ref, n_gen = ref_src.n_showers, gen_src.n_showers
    rows: list[dict] = []

    def add(metric, weighted, value, error="", note=""):
        rows.append(
            {
                "metric": metric,
                "weighted": weighted,
                "value": value,
                "error": error,
                "n_reference": n_ref,
                "n_generated": n_gen,
                "note": note,
            }
        )
        write_csv(out / "scores.csv", rows, SCORE_COLUMNS)
        shown = f"{value:.4g}" + (f" ± {error:.2g}" if error != "" else "")
        log.info("%s%s: %s", metric, " (weighted)" if weighted else "", shown)

    variants = [(False, None)] + ([(True, w)] if w is not None else [])

    if "hist" in metrics:
        ref.voxel_hist = voxel_histogram(ref_src, geometry, edges, settings.chunk, progress)
        table, panels = s2_rows(ref, gen, geometry, w)
        write_csv(out / "s2.csv", table, S2_COLUMNS)
        for weighted, _ in variants:
            key = "s2_weighted" if weighted else "s2"
            s2 = np.array([r[key] for r in table], dtype=float)
            add("s2_median", weighted, float(np.median(s2)), note=f"{len(s2)} histograms")
        if settings.figures:
            from .figures import histogram_figures, s2_figure

            histogram_figures(panels, w, out, geometry)
            s2_figure(table, out / "s2.png")

    if metrics & {"fpd", "kpd"}:
        fpd_kw, kpd_kw = _fpd_kpd_settings(min(n_ref, n_gen))
        for weighted, wv in variants:
            label = "weighted" if weighted else "generated"
            if "fpd" in metrics:
                rng = seeding.rng(settings.seed, "evaluate", "fpd", label)
                v, e = distances.fpd(ref.cls_high, gen.cls_high, wv, rng=rng, **fpd_kw)
                add("fpd_x1e3", weighted, 1e3 * v, 1e3 * e, "cls-high vector")
            if "kpd" in metrics:
                rng = seeding.rng(settings.seed, "evaluate", "kpd", label)
                v, e = distances.kpd(ref.cls_high, gen.cls_high, wv, rng=rng, **kpd_kw)
                add("kpd_x1e3", weighted, 1e3 * v, 1e3 * e, "cls-high vector")

    if "judge" in metrics:
        from ..dctr.judge import JudgeConfig, judge, judge_auc
        from ..jobs.common import torch_device

        torch_device(settings.threads)
        cfg = JudgeConfig.from_config(settings.judge)
        note = f"boosted trees ({cfg.trees}), cls-high, held out per fold"
        log.info("tree judge: %s", cfg)
        if w is None:
            identity = ("evaluate", "judge", "unweighted")
            auc, err, _ = judge_auc(
                ref.cls_high, gen.cls_high, None, cfg, seed=settings.seed, identity=identity
            )
            add("judge_auc", False, auc, err, note=note)
        else:
            result, _ = judge(
                ref.cls_high,
                gen.cls_high,
                w,
                cfg,
                seed=settings.seed,
                identity=("evaluate", "judge"),
            )
            add("judge_auc", False, result.auc_unweighted, result.auc_unweighted_err, note=note)
            add("judge_auc", True, result.auc, result.auc_err, note=note)
            null_note = "reference against reference carrying the weights: about 0.5"
            add("judge_auc_null", True, result.auc_null, result.auc_null_err, note=null_note)

    for mode, x_ref, x_gen in (
        ("cls-high", ref.cls_high, gen.cls_high),
        ("cls-low", ref.cls_low, gen.cls_low),
    ):
        if mode not in metrics:
            continue
        result = classifier_metric(
            x_ref,
            x_gen,
            w,
            config=settings.classifier,
            dataset=settings.dataset,
            seed=settings.seed,
            identity=("evaluate", mode),
            device=settings.device,
            progress=lambda it, desc, mode=mode: progress(it, f"{mode} {desc}", None),
        )
        note = (
            f"challenge DNN; best epoch {result.best_epoch}; showers per class train/test/"
            f"validation {result.n_train}/{result.n_test}/{result.n_validation}"
        )
        add(f"{mode}_auc", w is not None, result.auc, note=note)
        add(f"{mode}_jsd", w is not None, result.jsd, note=note)
        add(f"{mode}_auc_uncalibrated", w is not None, result.auc_uncalibrated, note=note)
        write_csv(
            out / f"classifier_{mode}_history.csv",
            result.history,
            ["epoch", "train_loss", "test_accuracy"],
        )
        if settings.figures:
            from .figures import classifier_figure

            classifier_figure(result, mode, out / f"classifier_{mode}.png")

    if "prdc" in metrics:
        prog = (lambda it, desc: progress(it, desc, None)) if settings.show_progress else None
        radii = nearest_neighbour_radii(
            ref.prdc,
            settings.prdc_k,
            progress=None if prog is None else (lambda it: prog(it, "PRDC reference radii")),
        )
        note = (
            f"log10 voxels, k = {settings.prdc_k}, {len(ref.prdc)} reference and "
            f"{len(gen.prdc)} generated showers"
        )
        for weighted, wv in variants:
            wp = None if wv is None else wv[gen.prdc_index]
            res = prdc(
                ref.prdc,
                gen.prdc,
                wp,
                nearest_k=settings.prdc_k,
                real_radii=radii,
                progress=prog,
            )
            for name in ("precision", "recall", "density", "coverage"):
                add(f"prdc_{name}", weighted, getattr(res, name), note=note)
    return rows


def default_config_path() -> Path:
    """The repository's ``config.yaml`` (the package is installed from its checkout)."""
    return Path(__file__).resolve().parents[3] / "config.yaml"


def judge_from_config(path) -> dict:
    """The tree judge's settings (:class:`ganplify.dctr.judge.JudgeConfig`) from a config
    file's ``dctr.judge``, as the workflow's judges take them."""
    from ..core.config import judge_settings, load_config

    path = Path(path)
    if not path.exists():
        raise EvaluateError(f"{path}: no such config file (--config: the judge's settings)")
    dctr = load_config(path).get("dctr")
    if not dctr or "judge" not in dctr:
        raise EvaluateError(f"{path}: no dctr.judge section (the judge's settings)")
    return judge_settings(dctr)


def available_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1

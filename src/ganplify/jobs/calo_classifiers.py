"""rules/calo_classifiers.smk: a calorimeter study's DCTR reweighters and their judges.

The evaluation protocol (docs/science.md §2.8): every reweighter is fitted on the *fitting*
showers of the truth and the generator (features files' rows with ``evaluation`` false), stored
(:mod:`ganplify.dctr.reweighter`), and applied to the generator's *evaluation* showers, which the
judges and summaries compare with the truth's evaluation showers. No fitting step sees an
evaluation shower.

- ``hl``: the reweighter on the high-level inputs (:class:`ganplify.calo.features.FeatureSet`):
  the paper's 33 for the ILD-like ECAL; the challenge's cls-high vector for a CaloChallenge
  geometry, which holds log10 E_inc, so that the weights are w(x | E).
- ``ll``: on the showers themselves, streamed from the chunk files: the paper's 3D CNN for the
  Cartesian ECAL; the challenge's cls-low network on [log10 E_inc, voxels / E_inc] for its
  cylindrical geometries (conditional too).
- the judges of either's weights: ``hl``, the boosted trees of :mod:`ganplify.dctr.judge` on the
  HL inputs; ``ll``, a fresh low-level network; both of the evaluation truth against the weighted
  evaluation showers, with their controls (unweighted; truth against truth carrying the weights).

Files: ``{calo}/reweighter_{hl,ll}.h5`` (the stored reweighters), ``{calo}/weights_{hl,ll}.h5``
(:func:`.common.weights_datasets`: the fitting showers' out-of-fold weights, the evaluation
showers' weights), ``{calo}/judge_{hl,ll}.h5`` (HL judges) and ``{calo}/ll_judge_{hl,ll}.h5``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..calo.detector import detector_from_config
from ..calo.features import feature_set
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_h5
from ..core.runtime import inject_fault
from .calo_showers import Segment, part_index, read_features
from .common import judge_job, reweight_job, torch_device, weights_datasets

log = logging.getLogger("ganplify")


def hl_inputs(features_file, detector, part: str | None = None) -> np.ndarray:
    """The HL classifier's inputs of a features file (``part``: "fit", "evaluation" or every
    shower): the paper's 33 for the Cartesian ECAL, the challenge's cls-high vector (with log10
    E_inc: conditional weights) otherwise."""
    obs, energies = read_features(features_file, part)
    return feature_set(detector_from_config(detector)).hl(obs, energies)


def hl_names(detector) -> list[str]:
    """The names of the HL classifier's inputs, each with its geometry's (datasets 2 and 3 have
    the same cls-high features: a reweighter of one must not weight showers of the other)."""
    geometry = detector_from_config(detector)
    return [f"{geometry.name}: {name}" for name in feature_set(geometry).hl_names]


def events_of(features_file, part: str) -> tuple[str, np.ndarray]:
    """(sample name, rows) of a features file's showers of ``part``."""
    return read_attrs(features_file)["sample"], part_index(features_file, part)


def hl_dctr(
    truth_file,
    gen_file,
    eval_gen_file,
    out,
    model_out,
    *,
    calo: str,
    detector,
    reweighter: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """The stored HL reweighter, fitted on the fitting showers; the fitting showers' out-of-fold
    and the evaluation showers' weights."""
    inject_fault(out)
    _, diag, eval_diag = reweight_job(
        hl_inputs(truth_file, detector, "fit"),
        hl_inputs(gen_file, detector, "fit"),
        hl_inputs(eval_gen_file, detector, "evaluation"),
        out,
        model_out,
        spec=reweighter,
        seed=seed,
        identity=("calorimeter", calo, "hl", "dctr"),
        threads=threads,
        features=hl_names(detector),
        events={
            "fit_truth": events_of(truth_file, "fit"),
            "fit_generated": events_of(gen_file, "fit"),
            "evaluation_generated": events_of(eval_gen_file, "evaluation"),
        },
        extra_attrs={"calo": calo},
    )
    log.info("HL weights: %s; evaluation showers %s", diag.as_dict(), eval_diag.as_dict())


def judge(
    truth_file,
    gen_file,
    weights_file,
    out,
    *,
    calo: str,
    detector,
    judged: str,
    judge: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """The HL judge of classifier ``judged``'s weights (:func:`.common.judge_job`): the boosted
    trees of the evaluation truth against the weighted evaluation showers, with its controls."""
    inject_fault(out)
    torch_device(threads)
    judge_job(
        hl_inputs(truth_file, detector, "evaluation"),
        hl_inputs(gen_file, detector, "evaluation"),
        read_dataset(weights_file, "evaluation/weights"),
        out,
        judge=judge,
        seed=seed,
        identity=("calorimeter", calo, judged, "judge"),
        events={
            "evaluation_truth": events_of(truth_file, "evaluation"),
            "evaluation_generated": events_of(gen_file, "evaluation"),
        },
        extra_attrs={"judged": judged, "weights_file": str(weights_file)},
    )


# -- the low-level classifiers: showers streamed from the files ------------------------------------


def _ll_geometry(detector):
    geometry = detector_from_config(detector)
    # the Cartesian ECAL: the 3D CNN on the showers; a CaloChallenge geometry: the cls-low MLP
    cls_low = geometry.kind != "cartesian"
    shape = geometry.shape if not cls_low else (1 + geometry.n_voxels,)
    return geometry, cls_low, tuple(shape)


def ll_input_name(detector) -> list[str]:
    """The low-level inputs, named as one description (a stored reweighter checks it)."""
    geometry, cls_low, shape = _ll_geometry(detector)
    if cls_low:
        return [f"{geometry.name}: cls-low [log10 E_inc/MeV, {geometry.n_voxels} voxels / E_inc]"]
    return [f"{geometry.name}: showers {'x'.join(map(str, shape))} (MeV)"]


def _parts(segments: Sequence[Segment], keep, size):
    from ..calo.streaming import slices

    return slices([(s.path, s.format, s.start, s.stop) for s in segments], size, keep)


def ll_predict(predict_batch, segments, keep, detector, *, workers: int, device, size: int = 256):
    """Outputs of ``predict_batch`` (an array of inputs → h) over the kept showers of
    ``segments``, streamed in order."""
    from ..calo.streaming import SliceBatches, loader

    geometry, cls_low, _ = _ll_geometry(detector)
    parts = _parts(segments, keep, size)
    out = np.empty(sum(p.n for p in parts))
    batches = loader(SliceBatches(parts, geometry.shape, cls_low), workers=workers, device=device)
    for x, idx in batches:
        out[idx.numpy()] = predict_batch(x.numpy())
    return out


def _ll_cross_fit(
    *,
    truth_segments: Sequence[Segment],
    gen_segments: Sequence[Segment],
    truth_keep,
    gen_keep,
    network: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    detector,
    threads: int,
    workers: int,
    identity: tuple,
    w_gen=None,
):
    """Cross-fit the low-level network on the kept showers (``truth_keep``, ``gen_keep``: a flag
    per shower of the segments) streamed from the files: the 3D CNN for the Cartesian ECAL, the
    cls-low MLP for a CaloChallenge geometry. ``w_gen`` (weights of the kept generated showers):
    train on truth against the *weighted* showers (a judge). ``network``: the network's settings
    and ``validation_fraction``.

    Folds are assigned by slices of ``batch_size / 2`` consecutive showers; in each fold a random
    ``validation_fraction`` of the training slices is held out to fit the calibration. Returns the
    cross-fit (its ``models``: :class:`ganplify.dctr.lowlevel.TrainedLowLevel`) and the device.
    """
    from ..calo.streaming import PairedBatches, SliceBatches, loader
    from ..dctr.crossfit import cross_fit_with, fold_ids
    from ..dctr.lowlevel import LowLevelConfig, TrainedLowLevel, predict_batches, train_network

    network = dict(network)
    validation_fraction = float(network.pop("validation_fraction"))
    network.pop("kind", None)
    cfg = LowLevelConfig.from_config(network)
    device = torch_device(threads)
    geometry, cls_low, shape = _ll_geometry(detector)
    size = max(1, cfg.batch_size // 2)
    parts = {
        "truth": _parts(truth_segments, truth_keep, size),
        "gen": _parts(gen_segments, gen_keep, size),
    }
    n = {k: sum(p.n for p in v) for k, v in parts.items()}
    if w_gen is not None and len(w_gen) != n["gen"]:
        raise ValueError(f"{len(w_gen)} weights for {n['gen']} generated showers")
    rng = seeding.rng(seed, *identity, "folds")
    slice_folds = {k: fold_ids(len(v), int(folds), rng) for k, v in parts.items()}
    event_folds = {k: np.repeat(slice_folds[k], [p.n for p in parts[k]]) for k in parts}

    def positions(chosen) -> np.ndarray:
        return np.concatenate([np.arange(p.index, p.index + p.n) for p in chosen] or [[]]).astype(
            int
        )

    def predict(model, sample: str, index: np.ndarray) -> np.ndarray:
        wanted = set(index.tolist())
        chosen = [p for p in parts[sample] if p.index in wanted]
        batches = loader(
            SliceBatches(chosen, geometry.shape, cls_low), workers=workers, device=device
        )
        return predict_batches(model, batches, n[sample], bf16=cfg.bf16)[index]

    def train_fold(f, _idx_t, _idx_g):
        vrng = seeding.rng(seed, *identity, "validation", f)
        chosen = {}
        for k in parts:
            train = [p for p, fo in zip(parts[k], slice_folds[k], strict=True) if fo != f]
            if len(train) < 2:
                raise ValueError(
                    f"LL classifier: {len(train)} {k} slice(s) of {size} showers in a fold's "
                    f"training set; need at least 2 (more showers or a smaller batch_size)"
                )
            n_held = min(len(train) - 1, max(1, round(validation_fraction * len(train))))
            held = np.zeros(len(train), dtype=bool)
            held[vrng.permutation(len(train))[:n_held]] = True
            chosen[k] = (
                [p for p, h in zip(train, held, strict=True) if not h],
                [p for p, h in zip(train, held, strict=True) if h],
            )
        data = PairedBatches(
            chosen["gen"][0],
            chosen["truth"][0],
            geometry.shape,
            seed=seeding.torch_seed(seed, *identity, "batches", f),
            cls_low=cls_low,
            gen_weights=w_gen,
        )
        model, losses = train_network(
            loader(data, workers=workers, device=device),
            cfg,
            seed=seeding.torch_seed(seed, *identity, "fold", f),
            device=device,
            shape=shape,
        )
        log.info("LL fold %d: %d steps, final loss %.4f", f, len(losses), losses[-50:].mean())

        def predictor(it, ig):
            return predict(model, "truth", it), predict(model, "gen", ig)

        validation = (positions(chosen["truth"][1]), positions(chosen["gen"][1]))
        # one epoch, no validation loss per step: the history's validation column stays NaN
        history = np.stack([losses, np.full_like(losses, np.nan)], axis=1)
        return predictor, validation, history, TrainedLowLevel(model, cfg, shape)

    cf = cross_fit_with(
        n["truth"],
        n["gen"],
        train_fold,
        folds=int(folds),
        calibration=calibration,
        rng=rng,
        w_gen=w_gen,
        fold_truth=event_folds["truth"],
        fold_gen=event_folds["gen"],
    )
    return cf, str(device)


def _keep(features_file, part: str) -> np.ndarray:
    evaluation = read_dataset(features_file, "evaluation").astype(bool)
    return evaluation if part == "evaluation" else ~evaluation


def ll_dctr(
    out,
    model_out,
    *,
    calo: str,
    samples: Mapping[str, tuple[Sequence[Segment], str]],
    reweighter: Mapping,
    detector,
    seed: int,
    threads: int = 1,
    workers: int = 0,
) -> None:
    """The stored low-level reweighter, cross-fitted on the fitting showers streamed from the
    files, and the weights of the fitting (out of fold) and the evaluation showers. ``samples``:
    for ``fit_truth``, ``fit_generated`` and ``evaluation_generated`` the segments and the
    features file that says which of their showers belong to that part."""
    inject_fault(out)
    from ..dctr import reweighter as rw_module
    from ..dctr.metrics import auc, jsd_from_bce

    spec = rw_module.ReweighterSpec.from_mapping(reweighter)
    parts = {
        name: (segments, _keep(features, "evaluation" if name.startswith("evaluation") else "fit"))
        for name, (segments, features) in samples.items()
    }
    network = {k: v for k, v in spec.classifier.items() if k != "kind"}
    cf, device = _ll_cross_fit(
        truth_segments=parts["fit_truth"][0],
        gen_segments=parts["fit_generated"][0],
        truth_keep=parts["fit_truth"][1],
        gen_keep=parts["fit_generated"][1],
        network=network,
        folds=spec.folds,
        calibration=spec.calibration,
        seed=seed,
        detector=detector,
        threads=threads,
        workers=workers,
        identity=("calorimeter", calo, "ll"),
    )
    rw = rw_module.from_cross_fit(cf, spec, ll_input_name(detector), info={"seed": seed})
    rw_module.finish(rw, cf.h_gen, cf.repeat_fold_gen)
    w_fit, diag = rw.weights_from_h(cf.h_gen, folds=cf.repeat_fold_gen)
    rw.save(model_out)
    stored = rw_module.load(model_out, features=ll_input_name(detector))
    for member in stored.members:  # loaded on the CPU: predict where the job trained
        member.classifier.model.to(device)
    h_eval = ll_predict(
        stored.h, *parts["evaluation_generated"], detector, workers=workers, device=device
    )
    w_eval, eval_diag = stored.weights_from_h(h_eval)
    h = np.concatenate([cf.h_truth, cf.h_gen])
    y = np.concatenate([np.ones(len(cf.h_truth)), np.zeros(len(cf.h_gen))])
    index = {
        "fit/truth_index": np.flatnonzero(parts["fit_truth"][1]),
        "fit/generated_index": np.flatnonzero(parts["fit_generated"][1]),
        "evaluation/generated_index": np.flatnonzero(parts["evaluation_generated"][1]),
    }
    names = {k: read_attrs(f)["sample"] for k, (_, f) in samples.items()}
    import torch

    write_h5(
        out,
        weights_datasets(cf, w_fit, rw, h_eval, w_eval, index),
        provenance(
            seed=seed,
            spec=spec.as_dict(),
            features=ll_input_name(detector),
            model_file=str(model_out),
            fit_auc=auc(h, y),
            fit_jsd=jsd_from_bce(h, y),
            diagnostics=diag.as_dict(),
            evaluation_diagnostics=eval_diag.as_dict(),
            fit_truth_sample=names["fit_truth"],
            fit_generated_sample=names["fit_generated"],
            evaluation_generated_sample=names["evaluation_generated"],
            temperatures=[c.temperature for c in cf.calibrations],
            device=device,
            torch_version=torch.__version__,
            calo=calo,
        ),
    )
    log.info("LL weights: %s; evaluation showers %s", diag.as_dict(), eval_diag.as_dict())


def ll_judge(
    weights_file,
    out,
    *,
    calo: str,
    judged: str,
    samples: Mapping[str, tuple[Sequence[Segment], str]],
    network: Mapping,
    folds: int,
    bootstrap: int,
    detector,
    seed: int,
    threads: int = 1,
    workers: int = 0,
) -> None:
    """The low-level judge of classifier ``judged``'s weights: fresh low-level networks (the 3D
    CNN, or the challenge's cls-low network; one epoch: a fixed capacity) of the evaluation truth
    against the evaluation showers, weighted and unweighted, and of half the evaluation truth
    against the other half carrying the weights (the null control); held-out AUCs per fold
    (:func:`ganplify.dctr.judge.held_out_auc`). ``samples``: ``evaluation_truth`` and
    ``evaluation_generated``, each (segments, features file)."""
    inject_fault(out)
    from ..dctr.judge import held_out_auc, null_split

    w = read_dataset(weights_file, "evaluation/weights")
    (t_seg, t_file), (g_seg, g_file) = samples["evaluation_truth"], samples["evaluation_generated"]
    t_keep, g_keep = _keep(t_file, "evaluation"), _keep(g_file, "evaluation")
    identity = ("calorimeter", calo, judged, "ll_judge")
    common = dict(
        network=network,
        folds=folds,
        calibration="none",
        seed=seed,
        detector=detector,
        threads=threads,
        workers=workers,
    )
    rows_t = np.flatnonzero(t_keep)
    a, b, wb = null_split(len(rows_t), w, seeding.rng(seed, *identity, "null", "split"))
    keep_a, keep_b = np.zeros_like(t_keep), np.zeros_like(t_keep)
    keep_a[rows_t[a]], keep_b[rows_t[b]] = True, True
    runs = {
        "weighted": (t_seg, t_keep, g_seg, g_keep, w),
        "unweighted": (t_seg, t_keep, g_seg, g_keep, None),
        "null": (t_seg, keep_a, t_seg, keep_b, wb),
    }
    attrs, datasets = {}, {}
    for name, (ts, tk, gs, gk, wg) in runs.items():
        cf, device = _ll_cross_fit(
            truth_segments=ts,
            gen_segments=gs,
            truth_keep=tk,
            gen_keep=gk,
            w_gen=wg,
            identity=(*identity, name),
            **common,
        )
        value, err = held_out_auc(
            cf, None, wg, bootstrap=bootstrap, rng=seeding.rng(seed, *identity, name, "bootstrap")
        )
        suffix = {"weighted": "", "unweighted": "_unweighted", "null": "_null"}[name]
        attrs |= {f"auc{suffix}": value, f"auc{suffix}_err": err}
        datasets |= {f"{name}/h_truth": cf.h_truth, f"{name}/h_gen": cf.h_gen}
    write_h5(
        out,
        datasets
        | {
            "evaluation/truth_index": rows_t,
            "evaluation/generated_index": np.flatnonzero(g_keep),
        },
        provenance(
            **attrs,
            seed=seed,
            judged=judged,
            weights_file=str(weights_file),
            network=dict(network),
            n_truth=len(rows_t),
            n_generated=int(g_keep.sum()),
            evaluation_truth_sample=read_attrs(t_file)["sample"],
            evaluation_generated_sample=read_attrs(g_file)["sample"],
            device=device,
        ),
    )

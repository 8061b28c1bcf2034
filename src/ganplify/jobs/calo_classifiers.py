"""rules/calo_classifiers.smk: a calorimeter study's DCTR classifiers and their closure tests.

- ``hl``: the cross-fitted MLP on the high-level inputs (:class:`ganplify.calo.features.
  FeatureSet`): the paper's 33 for the ILD-like ECAL; the challenge's cls-high vector for a
  CaloChallenge geometry, which holds log10 E_inc, so that the weights are w(x | E).
- ``ll``: on the showers themselves, streamed from the chunk files: the paper's 3D CNN for the
  Cartesian ECAL; the challenge's cls-low network on [log10 E_inc, voxels / E_inc] for its
  cylindrical geometries (conditional too).
- the closure test of either: a fresh cross-fitted HL classifier of truth against the *weighted*
  generated showers;
- the judge of either: the boosted trees of an independent truth sample (``judge``, showers no
  reweighter saw) against the generated showers, unweighted and weighted.

Files: ``{calo}/weights_{hl,ll}.h5`` (out-of-fold outputs, folds, histories, weights and their
diagnostics), ``{calo}/closure_{hl,ll}.h5`` and ``{calo}/judge_{hl,ll}.h5``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..calo.detector import detector_from_config
from ..calo.features import feature_set
from ..core import seeding
from ..core.io import provenance, read_dataset, write_h5
from ..core.runtime import inject_fault
from .calo_showers import Segment, read_features
from .common import cross_fit_job, judge_job, reweight_job, torch_device

log = logging.getLogger("ganplify")


def hl_inputs(features_file, detector) -> np.ndarray:
    """The HL classifier's inputs of a features file: the paper's 33 for the Cartesian ECAL,
    the challenge's cls-high vector (with log10 E_inc: conditional weights) otherwise."""
    obs, energies = read_features(features_file)
    return feature_set(detector_from_config(detector)).hl(obs, energies)


def hl_dctr(
    truth_file,
    gen_file,
    out,
    *,
    calo: str,
    detector,
    classifier: Mapping,
    folds: int,
    calibration: str,
    weights: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """The cross-fitted high-level classifier and the generated showers' weights."""
    inject_fault(out)
    diag = reweight_job(
        hl_inputs(truth_file, detector),
        hl_inputs(gen_file, detector),
        out,
        weights=weights,
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("calorimeter", calo, "hl", "dctr"),
        threads=threads,
    )
    log.info("HL weights: %s", diag.as_dict())


def closure(
    truth_file,
    gen_file,
    weights_file,
    out,
    *,
    calo: str,
    detector,
    judged: str,
    classifier: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Closure test of classifier ``judged``'s weights: a fresh cross-fitted HL-feature classifier
    of truth against the *weighted* generated showers. AUC ≈ 0.5 when the weights are right (as far
    as the HL features can tell)."""
    inject_fault(out)
    _, datasets, attrs = cross_fit_job(
        hl_inputs(truth_file, detector),
        hl_inputs(gen_file, detector),
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("calorimeter", calo, judged, "closure"),
        threads=threads,
        w_gen=read_dataset(weights_file, "weights"),
    )
    write_h5(out, datasets, provenance(**attrs, judged=judged, weights_file=str(weights_file)))


def judge(
    judge_file,
    gen_file,
    weights_file,
    out,
    *,
    calo: str,
    detector,
    judged: str,
    classifier: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    threads: int = 1,
) -> None:
    """The judge of classifier ``judged``'s weights: fresh classifiers (the boosted trees) of the
    independent judge sample — showers no reweighter saw — against the generated showers,
    unweighted and weighted, on the HL inputs (:func:`.common.judge_job`)."""
    inject_fault(out)
    judge_job(
        hl_inputs(judge_file, detector),
        hl_inputs(gen_file, detector),
        read_dataset(weights_file, "weights"),
        out,
        extra_attrs={"judged": judged, "weights_file": str(weights_file)},
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("calorimeter", calo, judged, "judge"),
        threads=threads,
    )


def _ll_cross_fit(
    *,
    calo: str,
    truth_segments: Sequence[Segment],
    gen_segments: Sequence[Segment],
    network: Mapping,
    folds: int,
    calibration: str,
    validation_fraction: float,
    seed: int,
    detector,
    threads: int,
    workers: int,
    identity: tuple,
    w_gen=None,
):
    """Cross-fit the low-level network on the showers streamed from the files: the 3D CNN for
    the Cartesian ECAL, the cls-low MLP for a CaloChallenge geometry. ``w_gen`` (weights of the
    generated showers): train on truth against the *weighted* showers (a closure test).

    Folds are assigned by slices of ``batch_size / 2`` consecutive showers; in each fold a random
    ``validation_fraction`` of the training slices is held out to fit the temperature. Returns
    the cross-fit and (h, labels, per-event weights) for the AUC and JSD.
    """

    from ..calo.streaming import PairedBatches, SliceBatches, loader, slices
    from ..dctr.crossfit import cross_fit_with, fold_ids
    from ..dctr.lowlevel import LowLevelConfig, predict_batches, train_network

    cfg = LowLevelConfig.from_config(network)
    device = torch_device(threads)
    geometry = detector_from_config(detector)
    # the Cartesian ECAL: the 3D CNN on the showers; a CaloChallenge geometry: the cls-low MLP
    cls_low = geometry.kind != "cartesian"
    shape = geometry.shape if not cls_low else (1 + geometry.n_voxels,)
    size = max(1, cfg.batch_size // 2)
    parts = {
        "truth": slices([(s.path, s.format, s.start, s.stop) for s in truth_segments], size),
        "gen": slices([(s.path, s.format, s.start, s.stop) for s in gen_segments], size),
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
        return predictor, validation, np.stack([losses, np.full_like(losses, np.nan)], axis=1)

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
    h = np.concatenate([cf.h_truth, cf.h_gen])
    y = np.concatenate([np.ones(n["truth"]), np.zeros(n["gen"])])
    sample_w = np.concatenate([np.ones(n["truth"]), np.ones(n["gen"]) if w_gen is None else w_gen])
    return cf, (h, y, sample_w), str(device)


def _ll_datasets(cf) -> dict:
    return {
        "h_truth": cf.h_truth,
        "h_gen": cf.h_gen,
        "fold_gen": cf.fold_gen,
        **{f"history/fold{f}": hist[:, 0] for f, hist in enumerate(cf.histories)},
    }


def _ll_attrs(cf, scored, device, **kw) -> dict:
    import torch

    from ..dctr.metrics import auc, jsd_from_bce

    return {
        **kw,
        "temperatures": [c.temperature for c in cf.calibrations],
        "auc": auc(*scored),
        "jsd": jsd_from_bce(*scored),
        "device": device,
        "torch_version": torch.__version__,
    }


def ll_dctr(
    out,
    *,
    calo: str,
    weights: Mapping,
    threads: int = 1,
    workers: int = 0,
    **fit,
) -> None:
    """The cross-fitted low-level classifier on the showers themselves, streamed from the files,
    and the generated showers' weights (``fit``: :func:`_ll_cross_fit`'s settings)."""
    inject_fault(out)
    from ..dctr.weights import WeightSettings, dctr_weights

    cf, scored, device = _ll_cross_fit(
        calo=calo, threads=threads, workers=workers, identity=("calorimeter", calo, "ll"), **fit
    )
    w, diag = dctr_weights(cf.h_gen, WeightSettings.from_config(weights))
    settings = {k: fit[k] for k in ("seed", "folds", "calibration")}
    write_h5(
        out,
        {**_ll_datasets(cf), "weights": w},
        provenance(
            **_ll_attrs(
                cf,
                scored,
                device,
                **settings,
                network=dict(fit["network"]),
                weight_settings=dict(weights),
                diagnostics=diag.as_dict(),
            )
        ),
    )
    log.info("LL weights: %s", diag.as_dict())


def ll_closure(
    weights_file,
    out,
    *,
    calo: str,
    judged: str,
    threads: int = 1,
    workers: int = 0,
    **fit,
) -> None:
    """Closure test of classifier ``judged``'s weights by a fresh low-level network (the 3D CNN,
    or the challenge's cls-low network): truth against the *weighted* generated showers, AUC and
    JSD with the weights (AUC ≈ 0.5 when the weights are right, as far as the voxels can tell)."""
    inject_fault(out)
    w = read_dataset(weights_file, "weights")
    cf, scored, device = _ll_cross_fit(
        calo=calo,
        threads=threads,
        workers=workers,
        identity=("calorimeter", calo, judged, "ll_closure"),
        w_gen=w,
        **fit,
    )
    settings = {k: fit[k] for k in ("seed", "folds", "calibration")}
    write_h5(
        out,
        _ll_datasets(cf),
        provenance(
            **_ll_attrs(
                cf,
                scored,
                device,
                **settings,
                network=dict(fit["network"]),
                judged=judged,
                weights_file=str(weights_file),
            )
        ),
    )

"""k-fold cross-fitting: every event gets a classifier output from a model that never saw it.

Truth and generated events are each split into k folds (balanced, at random). For fold f a
classifier trains on the other k − 1 folds of both classes — its own random validation split
stops the training early and fits the calibration — and predicts fold f. Every event thus has an
out-of-fold, calibrated output h, from which weights (:mod:`.weights`) and honest test metrics
(:mod:`.metrics`: the AUC of all out-of-fold outputs) follow. k = 2 is the paper's 50/50 split,
with both halves getting weights. Each fold trains on (k − 1)/k of the events, so a cross-fit costs
about k − 1 single fits.

:func:`fold_ids` and :func:`cross_fit_with` are shared with the low-level classifier, which trains
on showers streamed from files rather than on arrays in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core import seeding
from . import classifiers
from .calibration import Calibration, fit_calibration

log = logging.getLogger("ganplify.dctr")


def fold_ids(n: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold index in 0 … folds − 1 for each of ``n`` events; fold sizes differ by at most 1."""
    if folds < 2:
        raise ValueError(f"cross-fitting needs at least 2 folds, got {folds}")
    return rng.permutation(np.arange(n) % folds)


@dataclass
class CrossFit:
    """Out-of-fold outputs of a cross-fitted classifier."""

    #: calibrated out-of-fold outputs of the truth and generated events
    h_truth: np.ndarray
    h_gen: np.ndarray
    #: the same before calibration
    raw_truth: np.ndarray
    raw_gen: np.ndarray
    fold_truth: np.ndarray
    fold_gen: np.ndarray
    calibrations: list[Calibration]
    #: per fold: (epochs, 2) training and validation loss
    histories: list[np.ndarray]
    #: per fold: the trained classifier (``predict(x) -> h``, ``state()``: what a stored
    #: :class:`.reweighter.Reweighter` keeps); repeat r's fold f at r·k + f, like the above
    models: list = field(default_factory=list)
    #: every repeat's folds, ``(repeats, n)`` (row 0 is ``fold_truth``/``fold_gen``)
    repeat_fold_truth: np.ndarray | None = None
    repeat_fold_gen: np.ndarray | None = None

    def __post_init__(self):
        if self.repeat_fold_truth is None:
            self.repeat_fold_truth = np.asarray(self.fold_truth)[None]
        if self.repeat_fold_gen is None:
            self.repeat_fold_gen = np.asarray(self.fold_gen)[None]


#: ``train(fold, truth_index, gen_index) -> (predict, validation, history, model)``: trains on
#: the given events and returns a function that maps event indices of each class to raw outputs,
#: the validation events (indices per class) on which the calibration is fitted, the training
#: history and the trained classifier itself.
FoldTrainer = Callable[
    [int, np.ndarray, np.ndarray],
    tuple[
        Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
        tuple[np.ndarray, np.ndarray],
        np.ndarray,
        object,
    ],
]


def cross_fit_with(
    n_truth: int,
    n_gen: int,
    train_fold: FoldTrainer,
    *,
    folds: int,
    calibration: str,
    rng: np.random.Generator,
    w_truth=None,
    w_gen=None,
    fold_truth: np.ndarray | None = None,
    fold_gen: np.ndarray | None = None,
) -> CrossFit:
    """Cross-fit any classifier: ``train_fold`` trains one fold (see :data:`FoldTrainer`).

    The events' folds are drawn from ``rng`` (:func:`fold_ids`) unless given as ``fold_truth`` and
    ``fold_gen`` (the low-level classifier assigns whole slices of a file to a fold).
    """
    fold_t = fold_ids(n_truth, folds, rng) if fold_truth is None else np.asarray(fold_truth)
    fold_g = fold_ids(n_gen, folds, rng) if fold_gen is None else np.asarray(fold_gen)
    raw_t, raw_g = np.empty(n_truth), np.empty(n_gen)
    h_t, h_g = np.empty(n_truth), np.empty(n_gen)
    calibrations, histories, models = [], [], []
    wt = np.ones(n_truth) if w_truth is None else np.asarray(w_truth, dtype=float)
    wg = np.ones(n_gen) if w_gen is None else np.asarray(w_gen, dtype=float)
    for f in range(folds):
        test_t, test_g = np.flatnonzero(fold_t == f), np.flatnonzero(fold_g == f)
        predictor, (val_t, val_g), history, model = train_fold(
            f, np.flatnonzero(fold_t != f), np.flatnonzero(fold_g != f)
        )
        pv_t, pv_g = predictor(val_t, val_g)
        cal = fit_calibration(
            calibration,
            np.concatenate([pv_t, pv_g]),
            np.concatenate([np.ones(len(pv_t)), np.zeros(len(pv_g))]),
            np.concatenate([wt[val_t], wg[val_g]]),
        )
        raw_t[test_t], raw_g[test_g] = predictor(test_t, test_g)
        h_t[test_t], h_g[test_g] = cal(raw_t[test_t]), cal(raw_g[test_g])
        calibrations.append(cal)
        histories.append(np.asarray(history))
        models.append(model)
        log.info("fold %d/%d: %d + %d events predicted", f + 1, folds, test_t.size, test_g.size)
    return CrossFit(h_t, h_g, raw_t, raw_g, fold_t, fold_g, calibrations, histories, models)


def cross_fit(
    x_truth,
    x_gen,
    config: classifiers.Config,
    *,
    folds: int,
    calibration: str,
    seed: int,
    identity: tuple = (),
    w_truth=None,
    w_gen=None,
    device="cpu",
    max_train_gen: int | None = None,
) -> CrossFit:
    """Cross-fit a classifier of :mod:`.classifiers` (``config``: its kind's settings, e.g.
    :class:`.boosted.BoostedConfig`) on feature arrays in memory.

    ``seed`` and ``identity`` (the job's identity) seed the fold assignment and every fold's
    classifier; ``w_truth``/``w_gen`` are per-event sample weights (initial weights, or DCTR
    weights for a closure test). ``max_train_gen`` caps the generated events each fold trains on
    (a random subset of the other folds'): with few truth events, more generated ones add cost but
    little information. Every generated event is still predicted out of fold, and the classes are
    balanced whatever their sizes (by weight, :func:`.weights.balanced_weights`, or for unweighted
    events by the kind's own means).

    With ``config.repeats`` = R > 1 (``config.repeats_for(N)`` of the N events given: the trees'
    ``auto`` counts by N) the cross-fit is done R times, each with its own folds and classifiers
    (repeat 0 is the single cross-fit's), and each event's calibrated and raw outputs are
    averaged in logit, ln(h/(1 − h)) — the mean log density ratio: every output is still from
    models that never saw the event, and the noise of one fit's folds and trees averages down.
    The result's folds are repeat 0's; its calibrations and histories are every fit's, repeat
    r's fold f at index r·k + f.
    """
    fits = [
        _cross_fit_once(
            x_truth,
            x_gen,
            config,
            folds=folds,
            calibration=calibration,
            seed=seed,
            identity=tuple(identity) + (("repeat", r) if r else ()),
            w_truth=w_truth,
            w_gen=w_gen,
            device=device,
            max_train_gen=max_train_gen,
        )
        for r in range(config.repeats_for(len(x_truth) + len(x_gen)))
    ]
    if len(fits) == 1:
        return fits[0]
    return CrossFit(
        *(_mean_logit([getattr(cf, k) for cf in fits]) for k in _OUTPUTS),
        fits[0].fold_truth,
        fits[0].fold_gen,
        [c for cf in fits for c in cf.calibrations],
        [h for cf in fits for h in cf.histories],
        [m for cf in fits for m in cf.models],
        np.stack([cf.fold_truth for cf in fits]),
        np.stack([cf.fold_gen for cf in fits]),
    )


_OUTPUTS = ("h_truth", "h_gen", "raw_truth", "raw_gen")


def _mean_logit(hs: list[np.ndarray]) -> np.ndarray:
    from scipy.special import expit, logit

    # the clip of dctr_weights' default epsilon: one saturated fit must not dominate the mean
    return expit(np.mean([logit(np.clip(h, 1e-6, 1 - 1e-6)) for h in hs], axis=0))


def _cross_fit_once(
    x_truth,
    x_gen,
    config: classifiers.Config,
    *,
    folds: int,
    calibration: str,
    seed: int,
    identity: tuple,
    w_truth,
    w_gen,
    device,
    max_train_gen: int | None,
) -> CrossFit:
    x_truth = np.asarray(x_truth, dtype=float).reshape(len(x_truth), -1)
    x_gen = np.asarray(x_gen, dtype=float).reshape(len(x_gen), -1)
    wt = np.ones(len(x_truth)) if w_truth is None else np.asarray(w_truth, dtype=float)
    wg = np.ones(len(x_gen)) if w_gen is None else np.asarray(w_gen, dtype=float)

    def train_fold(f, idx_t, idx_g):
        if max_train_gen is not None and idx_g.size > max_train_gen:
            pick = seeding.rng(seed, *identity, "subsample", f).choice(
                idx_g.size, max_train_gen, replace=False
            )
            idx_g = idx_g[np.sort(pick)]
        x = np.concatenate([x_truth[idx_t], x_gen[idx_g]])
        y = np.concatenate([np.ones(idx_t.size), np.zeros(idx_g.size)])
        unweighted = w_truth is None and w_gen is None
        w = None if unweighted else np.concatenate([wt[idx_t], wg[idx_g]])
        trained = classifiers.train(
            x,
            y,
            config,
            seed=seeding.torch_seed(seed, *identity, "fold", f),
            weights=w,
            device=device,
        )
        val = trained.validation_index
        val_t, val_g = idx_t[val[val < idx_t.size]], idx_g[val[val >= idx_t.size] - idx_t.size]

        def predictor(it, ig):
            return trained.predict(x_truth[it]), trained.predict(x_gen[ig])

        return predictor, (val_t, val_g), trained.history, trained

    return cross_fit_with(
        len(x_truth),
        len(x_gen),
        train_fold,
        folds=folds,
        calibration=calibration,
        rng=seeding.rng(seed, *identity, "folds"),
        w_truth=wt,
        w_gen=wg,
    )

"""The judge: can a fresh classifier tell evaluation truth from the weighted generated events?

A judge is a classifier trained on held-out data to separate truth (label 1) from the generated
events carrying their DCTR weights; its out-of-fold AUC is 0.5 when the weights are right (as far
as its inputs can tell). Three rules make its number trustworthy (docs/science.md, the
evaluation protocol):

- **Evaluation truth only.** It is given truth events that no fitting step saw.
- **A capacity its own stopping cannot remove.** The boosted trees of :class:`JudgeConfig` always
  grow ``trees`` trees (no early stopping): a noisy weighted validation loss is lowest before
  the first tree often enough that an early-stopped judge predicts a constant and calls any two
  samples alike. Each fold trains on one half and scores the other (k = 2 by default).
- **Controls, always reported beside it.** The same judge on the *unweighted* generated events
  (what the weights changed), and on evaluation truth against evaluation truth carrying the
  weights, permuted (the null: half the evaluation events against the other half with a random
  draw of the generated events' weights; ≈ 0.5 whatever the weights, so a wide weight
  distribution alone does not move the AUC).

Each AUC is the mean over the folds of one model's AUC on the events it did not train on, with a
Poisson-bootstrap error over those events (the outputs held fixed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from ..core import seeding
from ..core.config import from_mapping
from .boosted import BoostedConfig
from .crossfit import cross_fit
from .metrics import auc


@dataclass(frozen=True)
class JudgeConfig:
    """The judge's boosted trees (scikit-learn's names): by default scikit-learn's own
    ``HistGradientBoostingClassifier`` defaults with early stopping off — no tuning of ours."""

    #: trees every judge grows (no early stopping)
    trees: int = 100
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 20
    l2_regularization: float = 0.0
    max_bins: int = 255
    #: cross-fit folds: each fold's trees train on the other folds and score their own
    folds: int = 2
    #: Poisson-bootstrap replicas of each AUC's error
    bootstrap: int = 200

    def __post_init__(self):
        if self.trees < 1:
            raise ValueError(f"judge trees {self.trees!r}: at least 1")
        if self.folds < 2:
            raise ValueError(f"judge folds {self.folds!r}: at least 2")

    @classmethod
    def from_config(cls, cfg: Mapping) -> JudgeConfig:
        return from_mapping(cls, cfg)

    def boosted(self) -> BoostedConfig:
        return BoostedConfig(
            max_iter=self.trees,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            max_bins=self.max_bins,
            early_stopping=False,
            validation_fraction=0.0,
            repeats=1,
        )


@dataclass(frozen=True)
class JudgeResult:
    """The judge's AUCs (and their bootstrap errors): ``auc`` of evaluation truth against the
    weighted generated events, ``auc_unweighted`` against the same events unweighted, and
    ``auc_null`` of evaluation truth against evaluation truth carrying the permuted weights."""

    auc: float
    auc_err: float
    auc_unweighted: float
    auc_unweighted_err: float
    auc_null: float
    auc_null_err: float
    n_truth: int
    n_generated: int
    trees: int

    def as_dict(self) -> dict:
        return asdict(self)


def held_out_auc(
    cf, w_truth=None, w_gen=None, *, bootstrap: int, rng: np.random.Generator
) -> tuple[float, float]:
    """The AUC of a cross-fit's out-of-fold outputs (:class:`.crossfit.CrossFit`), fold by fold
    and averaged — each fold's is one model's, on events it never saw (pooling the folds' outputs
    into one ranking mixes two models' scales, which pulls the AUC of identical samples below
    0.5) — and its Poisson-bootstrap error over the events (the outputs held fixed)."""
    h = np.concatenate([cf.h_truth, cf.h_gen])
    y = np.concatenate([np.ones(len(cf.h_truth)), np.zeros(len(cf.h_gen))])
    fold = np.concatenate([cf.fold_truth, cf.fold_gen])
    wt = np.ones(len(cf.h_truth)) if w_truth is None else np.asarray(w_truth, float)
    wg = np.ones(len(cf.h_gen)) if w_gen is None else np.asarray(w_gen, float)
    sw = np.concatenate([wt, wg])
    folds = [fold == f for f in np.unique(fold)]

    def mean_auc(weights):
        return float(np.mean([auc(h[m], y[m], weights[m]) for m in folds]))

    replicas = [mean_auc(sw * rng.poisson(1.0, len(sw))) for _ in range(int(bootstrap))]
    err = float(np.std(replicas, ddof=1)) if len(replicas) > 1 else float("nan")
    return mean_auc(sw), err


def judge_auc(
    x_truth, x_gen, w_gen, config: JudgeConfig, *, seed: int, identity: tuple, w_truth=None
) -> tuple[float, float, dict]:
    """One judge: the held-out AUC (:func:`held_out_auc`) of ``x_truth`` (label 1; weights
    ``w_truth``) against ``x_gen`` weighted by ``w_gen`` (None: unweighted), its bootstrap error,
    and the outputs (``h_truth``, ``h_gen``, ``fold_truth``, ``fold_gen``)."""
    cf = cross_fit(
        x_truth,
        x_gen,
        config.boosted(),
        folds=config.folds,
        calibration="none",
        seed=seed,
        identity=identity,
        w_truth=w_truth,
        w_gen=w_gen,
    )
    value, err = held_out_auc(
        cf,
        w_truth,
        w_gen,
        bootstrap=config.bootstrap,
        rng=seeding.rng(seed, *identity, "bootstrap"),
    )
    outputs = {
        "h_truth": cf.h_truth,
        "h_gen": cf.h_gen,
        "fold_truth": cf.fold_truth,
        "fold_gen": cf.fold_gen,
    }
    return value, err, outputs


def null_split(n_truth: int, w_gen, rng: np.random.Generator):
    """The null control's events: the evaluation truth split in two halves (``a`` the truth,
    ``b`` the stand-in generator), and ``b``'s weights, a random draw of the generated weights
    (without replacement where there are enough) normalised to mean 1."""
    order = rng.permutation(int(n_truth))
    a, b = np.sort(order[: n_truth // 2]), np.sort(order[n_truth // 2 :])
    w = np.asarray(w_gen, dtype=float)
    drawn = rng.choice(w, size=len(b), replace=len(b) > len(w))
    return a, b, drawn / drawn.mean()


def judge(
    x_truth, x_gen, w_gen, config: JudgeConfig = JudgeConfig(), *, seed: int, identity: tuple = ()
) -> tuple[JudgeResult, dict]:
    """The judge of the weights ``w_gen`` of events ``x_gen`` on evaluation truth ``x_truth``,
    with its two controls (see the module). Returns the result and every judge's outputs
    (``weighted/…``, ``unweighted/…``, ``null/…``)."""
    x_truth = np.asarray(x_truth, dtype=float).reshape(len(x_truth), -1)
    x_gen = np.asarray(x_gen, dtype=float).reshape(len(x_gen), -1)
    if len(x_truth) < 4 * config.folds:
        raise ValueError(f"a judge needs more than {len(x_truth)} evaluation truth events")
    identity = tuple(identity)
    weighted = judge_auc(x_truth, x_gen, w_gen, config, seed=seed, identity=(*identity, "weighted"))
    unweighted = judge_auc(
        x_truth, x_gen, None, config, seed=seed, identity=(*identity, "unweighted")
    )
    a, b, wb = null_split(len(x_truth), w_gen, seeding.rng(seed, *identity, "null", "split"))
    null = judge_auc(x_truth[a], x_truth[b], wb, config, seed=seed, identity=(*identity, "null"))
    result = JudgeResult(
        auc=weighted[0],
        auc_err=weighted[1],
        auc_unweighted=unweighted[0],
        auc_unweighted_err=unweighted[1],
        auc_null=null[0],
        auc_null_err=null[1],
        n_truth=len(x_truth),
        n_generated=len(x_gen),
        trees=config.trees,
    )
    outputs = {}
    for name, (_, _, out) in (("weighted", weighted), ("unweighted", unweighted), ("null", null)):
        outputs |= {f"{name}/{k}": v for k, v in out.items()}
    outputs["null/truth_index"], outputs["null/generated_index"] = a, b
    outputs["null/weights"] = wb
    return result, outputs

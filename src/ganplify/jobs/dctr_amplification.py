"""rules/dctr_amplification.smk: what is a reweighted GAN event worth? (DCTR meets amplification)

For run i of a GANplifying study, a DCTR classifier separates the run's own training sample — the
only truth a user of a generator has — from the events of its generator (approach ``gan`` or
``ensemble``). It is cross-fitted over the training sample: each of k folds' classifiers trains on
the other folds' training points and (a capped random subset of) the other folds' generated
events and weights its own fold's generated events. The class imbalance — ~100 points against up
to 100,000 events — is handled by giving each class the same total weight in the loss, so that
h/(1 − h) estimates p_train/p_gen. The run's file holds the weights and the *weighted* cell
fractions of every prefix of the generated sample, the same layout as a generator's run, so the
gather, saturation and figures treat it as one more generator.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..amplification.cells import prefix_fractions
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_h5
from ..core.runtime import inject_fault
from .common import fraction_datasets, judge, reweight, truth_from_config

log = logging.getLogger("ganplify")


def reweight_run(
    sample_path,
    generator_path,
    out,
    *,
    approach: str,
    truth: Mapping,
    quantiles: Sequence[int],
    classifier: Mapping,
    folds: int,
    calibration: str,
    weights: Mapping,
    max_train_generated: int,
    seed: int,
    threads: int = 1,
    judge_classifier: Mapping | None = None,
) -> None:
    """DCTR-weight the generated events of one run towards its training sample; score them.

    ``judge_classifier``: a classifier (kind and settings) for the closure that cannot flatter —
    trained on events drawn from the exact truth (as many as the generated events, at most
    ``max_train_generated``; the reweighter saw none of them) against the generated events,
    unweighted and weighted: attributes ``judge_auc_gan`` and ``judge_auc``."""
    inject_fault(out)
    from ..dctr.weights import effective_sample_size

    gen_attrs = read_attrs(generator_path)
    study, index = gen_attrs["study"], int(gen_attrs["index"])
    x = read_dataset(sample_path, "x")
    events = read_dataset(generator_path, "generated").astype(np.float64)
    sizes = read_dataset(generator_path, "n_generated")
    w, diag, _, attrs = reweight(
        x,
        events,
        weights=weights,
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=(study, approach, index),
        threads=threads,
        max_train_gen=int(max_train_generated),
    )
    judged = {}
    if judge_classifier is not None:
        n_judge = min(len(events), int(max_train_generated))
        x_judge = truth_from_config(truth).sample(
            n_judge, seeding.rng(seed, study, approach, index, "judge")
        )
        _, attrs_judge = judge(
            x_judge,
            events,
            w,
            classifier=judge_classifier,
            folds=2,
            calibration="none",
            seed=seed,
            identity=(study, approach, index, "judge"),
            threads=threads,
        )
        judged = {
            "judge_auc_gan": attrs_judge["auc_unweighted"],
            "judge_auc": attrs_judge["auc"],
            "n_judge": n_judge,
        }
    cells, marginals = prefix_fractions(events, truth_from_config(truth), quantiles, sizes, w)
    n_eff = np.array([effective_sample_size(w[: int(n)]) for n in sizes])
    write_h5(
        out,
        {
            "weights": w,
            "n_generated": sizes,
            "n_eff": n_eff,
            **fraction_datasets(cells, marginals),
        },
        provenance(
            **{k: v for k, v in attrs.items() if k != "temperatures"},
            study=study,
            index=index,
            approach=approach,
            generator_file=str(generator_path),
            sample_file=str(sample_path),
            truth=dict(truth),
            quantiles=list(quantiles),
            **judged,
        ),
    )
    log.info("%s %s/%d: N_eff/N %.3f, %s", approach, study, index, diag.n_eff_fraction, diag)

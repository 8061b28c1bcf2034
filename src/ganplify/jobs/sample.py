"""rules/sample.smk: draw a training sample and store it with its cell fractions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..amplification.cells import all_fractions, all_marginal_fractions
from ..core import seeding
from ..core.io import provenance, write_h5
from .common import fraction_datasets, truth_from_config

log = logging.getLogger("ganplify")


def make_sample(
    out,
    *,
    study: str,
    truth: Mapping,
    n_train: int,
    quantiles: Sequence[int],
    seed: int,
    index: int,
) -> np.ndarray:
    """Draw training sample ``index`` of ``study`` and write it with its cell fractions."""
    density = truth_from_config(truth)
    x = density.sample(int(n_train), seeding.sample_rng(seed, study, index))
    write_h5(
        out,
        {
            "x": x,
            **fraction_datasets(
                all_fractions(x, density, quantiles), all_marginal_fractions(x, density, quantiles)
            ),
        },
        provenance(
            seed=seed,
            seed_identity=[study, "sample", index],
            study=study,
            index=index,
            n=int(n_train),
            truth=dict(truth),
            quantiles=list(quantiles),
        ),
    )
    log.info("sample %s/%d: %d points written to %s", study, index, n_train, out)
    return x

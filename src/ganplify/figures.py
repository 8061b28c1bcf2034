"""The study's figures built from its output files (the plotting itself is in :mod:`.plots`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import h5py

from .fits import CAMELBACK_PARAMETERS
from .io import read_attrs, read_dataset
from .plots import overview_figure, quantile_error_figure, save
from .studies import quantile_edges, truth_from_config
from .truth import mixture_pdf


def overview(*, sample_file, fit_file, study_cfg: Mapping, outputs: Sequence[str], k: int = 10):
    """Fig. 1 analogue from a training-sample file and (optionally) its fit file."""
    truth = truth_from_config(study_cfg["truth"])
    x = read_dataset(sample_file, "x")
    fit_pdf = None
    if fit_file is not None and read_attrs(fit_file)["valid"]:
        p = dict(zip(CAMELBACK_PARAMETERS, read_dataset(fit_file, "values"), strict=True))
        fit_pdf = lambda t: mixture_pdf(t, **p)  # noqa: E731
    save(overview_figure(truth, x, quantile_edges(truth, k), fit_cdf_pdf=fit_pdf), outputs)


def quantile_errors(errors_file, *, study_cfg: Mapping, outputs: Sequence[str]):
    """Fig. 2 analogue from the gathered ``quantile_errors.h5``."""
    with h5py.File(errors_file, "r") as f:
        ks = [int(k) for k in f["K"][()]]
        sizes = f["reference/sizes"][()]
        ref = f["reference/mse"][()]
        horizontal = {a: f[f"{a}/mse"][()] for a in ("sample", "fit") if a in f}
    save(
        quantile_error_figure(ks, sizes, ref, horizontal, n_train=int(study_cfg["n_train"])),
        outputs,
    )

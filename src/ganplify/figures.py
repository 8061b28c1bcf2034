"""The study's figures built from its output files (the plotting itself is in :mod:`.plots`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import h5py

from .fits import CAMELBACK_PARAMETERS
from .io import read_attrs, read_dataset
from .plots import overview_figure, quantile_error_figure, save, training_figure
from .studies import quantile_edges, truth_from_config
from .truth import mixture_pdf


def overview(
    *,
    sample_file,
    fit_file,
    study_cfg: Mapping,
    outputs: Sequence[str],
    generator_files: Mapping[str, str] | None = None,
    k: int = 10,
):
    """Fig. 1 analogue from a training-sample file and (optionally) its fit and generator files."""
    truth = truth_from_config(study_cfg["truth"])
    x = read_dataset(sample_file, "x")
    fit_pdf = None
    if fit_file is not None and read_attrs(fit_file)["valid"]:
        p = dict(zip(CAMELBACK_PARAMETERS, read_dataset(fit_file, "values"), strict=True))
        fit_pdf = lambda t: mixture_pdf(t, **p)  # noqa: E731
    generated = {a: read_dataset(f, "generated") for a, f in (generator_files or {}).items()}
    save(
        overview_figure(
            truth, x, quantile_edges(truth, k), fit_cdf_pdf=fit_pdf, generated=generated
        ),
        outputs,
    )


def quantile_errors(errors_file, *, study_cfg: Mapping, outputs: Sequence[str]):
    """Fig. 2 analogue from the gathered ``quantile_errors.h5``."""
    with h5py.File(errors_file, "r") as f:
        ks = [int(k) for k in f["K"][()]]
        sizes = f["reference/sizes"][()]
        ref = f["reference/mse"][()]
        horizontal = {a: f[f"{a}/mse"][()] for a in ("sample", "fit") if a in f}
        curves = {
            a: (f[f"{a}/n_generated"][()], f[f"{a}/mse"][()][f[f"{a}/ok"][()]])
            for a in ("gan", "ensemble")
            if a in f
        }
    save(
        quantile_error_figure(
            ks, sizes, ref, horizontal, n_train=int(study_cfg["n_train"]), curves=curves
        ),
        outputs,
    )


def training(run_files: Sequence[str], *, title: str, outputs: Sequence[str]):
    """Training-loss curves of every run of one generator approach."""
    save(training_figure([read_dataset(f, "history") for f in run_files], title), outputs)

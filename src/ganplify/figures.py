"""The study's figures built from its output files (the plotting itself is in :mod:`.plots`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import h5py

from .io import read_attrs, read_dataset
from .plots import (
    overview_figure,
    quantile_error_figure,
    radial_figure,
    ring_figure,
    save,
    training_figure,
)
from .studies import dimension, n_cells, quantile_edges, truth_from_config
from .truth import CamelBack, folded_normal_pdf, mixture_pdf


def overview(
    *,
    sample_file,
    fit_file,
    study_cfg: Mapping,
    outputs: Sequence[str],
    generator_files: Mapping[str, str] | None = None,
    k: int = 10,
):
    """Fig. 1 analogue: truth, training sample 0, its fit and its generators' events.

    1D: densities with the K = ``k`` quantile edges; 2D: the ring as images; d >= 3: the radius
    and the first polar angle.
    """
    truth = truth_from_config(study_cfg["truth"])
    x = read_dataset(sample_file, "x")
    params = None
    if fit_file is not None and read_attrs(fit_file)["valid"]:
        names = read_attrs(fit_file)["parameters"]
        params = dict(zip(names, read_dataset(fit_file, "values"), strict=True))
    generated = {a: read_dataset(f, "generated") for a, f in (generator_files or {}).items()}
    if isinstance(truth, CamelBack):
        fit_pdf = None if params is None else (lambda t: mixture_pdf(t, **params))
        fig = overview_figure(
            truth, x, quantile_edges(truth, k), fit_cdf_pdf=fit_pdf, generated=generated
        )
    elif truth.dim == 2:
        fig = ring_figure(truth, x, generated)
    else:
        fit_pdf = (
            None
            if params is None
            else (lambda r: folded_normal_pdf(r, params["r_mean"], params["r_sigma"]))
        )
        fig = radial_figure(truth, x, fit_pdf=fit_pdf, generated=generated)
    save(fig, outputs)


def quantile_errors(errors_file, *, study_cfg: Mapping, outputs: Sequence[str]):
    """Fig. 2 analogue from the gathered ``quantile_errors.h5``."""
    truth = truth_from_config(study_cfg["truth"])
    d = dimension(truth)
    qs = [int(q) for q in study_cfg["quantiles"]]
    titles = [
        f"{q} quantiles" if d == 1 else f"{q} quantiles per coordinate ({n_cells(truth, q)} cells)"
        for q in qs
    ]
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
            ks,
            sizes,
            ref,
            horizontal,
            n_train=int(study_cfg["n_train"]),
            curves=curves,
            titles=titles,
        ),
        outputs,
    )


def training(run_files: Sequence[str], *, title: str, outputs: Sequence[str]):
    """Training-loss curves of every run of one generator approach."""
    save(training_figure([read_dataset(f, "history") for f in run_files], title), outputs)

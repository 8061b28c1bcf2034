"""rules/plots.smk: the GANplifying figures, built from the study's output files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import h5py

from ..amplification.cells import dimension, n_cells, quantile_edges
from ..amplification.figures import (
    amplification_vs_ntrain_figure,
    overview_figure,
    quantile_error_figure,
    radial_figure,
    ring_figure,
    training_figure,
)
from ..core.approaches import APPROACHES
from ..core.io import read_attrs, read_dataset
from ..core.plotting import save
from ..densities.truth import CamelBack, folded_normal_pdf, mixture_pdf
from .common import truth_from_config


def overview(
    *,
    sample_file,
    fit_file,
    truth: Mapping,
    outputs: Sequence[str],
    generator_files: Mapping[str, str] | None = None,
    k: int = 10,
):
    """Fig. 1 analogue: truth, training sample 0, its fit and its generators' events.

    1D: densities with the K = ``k`` quantile edges; 2D: the ring as images; d >= 3: the radius
    and the first polar angle.
    """
    density = truth_from_config(truth)
    x = read_dataset(sample_file, "x")
    params = None
    if fit_file is not None and read_attrs(fit_file)["valid"]:
        names = read_attrs(fit_file)["parameters"]
        params = dict(zip(names, read_dataset(fit_file, "values"), strict=True))
    generated = {a: read_dataset(f, "generated") for a, f in (generator_files or {}).items()}
    if isinstance(density, CamelBack):
        fit_pdf = None if params is None else (lambda t: mixture_pdf(t, **params))
        fig = overview_figure(
            density, x, quantile_edges(density, k), fit_cdf_pdf=fit_pdf, generated=generated
        )
    elif density.dim == 2:
        fig = ring_figure(density, x, generated)
    else:
        fit_pdf = (
            None
            if params is None
            else (lambda r: folded_normal_pdf(r, params["r_mean"], params["r_sigma"]))
        )
        fig = radial_figure(density, x, fit_pdf=fit_pdf, generated=generated)
    save(fig, outputs)


def quantile_errors(
    errors_file, *, truth: Mapping, n_train: int, quantiles: Sequence[int], outputs: Sequence[str]
):
    """Fig. 2 analogue from the gathered ``quantile_errors.h5``."""
    density = truth_from_config(truth)
    d = dimension(density)
    qs = [int(q) for q in quantiles]
    titles = [
        f"{q} quantiles"
        if d == 1
        else f"{q} quantiles per coordinate ({n_cells(density, q)} cells)"
        for q in qs
    ]
    with h5py.File(errors_file, "r") as f:
        ks = [int(k) for k in f["K"][()]]
        sizes = f["reference/sizes"][()]
        ref = f["reference/mse"][()]
        present = [a for a in APPROACHES if a in f]
        horizontal = {a: f[f"{a}/mse"][()] for a in present if not APPROACHES[a].generator}
        curves = {
            a: (f[f"{a}/n_generated"][()], f[f"{a}/mse"][()][f[f"{a}/ok"][()]])
            for a in present
            if APPROACHES[a].generator
        }
    fig = quantile_error_figure(
        ks, sizes, ref, horizontal, n_train=int(n_train), curves=curves, titles=titles
    )
    save(fig, outputs)


def training(run_files: Sequence[str], *, title: str, outputs: Sequence[str]):
    """Training-loss curves of every run of one generator approach."""
    save(training_figure([read_dataset(f, "history") for f in run_files], title), outputs)


def amplification_vs_ntrain(table_csv, *, truth: Mapping, quantiles: Sequence[int], outputs):
    """Amplification against the training size, per K and approach."""
    import pandas as pd

    density = truth_from_config(truth)
    titles = {
        n_cells(density, q): (
            f"{q} quantiles"
            if dimension(density) == 1
            else f"{q}/coordinate ({n_cells(density, q)} cells)"
        )
        for q in quantiles
    }
    save(amplification_vs_ntrain_figure(pd.read_csv(table_csv).to_dict("records"), titles), outputs)

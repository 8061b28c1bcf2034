"""What the jobs of the GANplifying study share: the truth from the config, and the per-run file.

Every per-run file (``results/{study}/{folder}/{i}.h5``, folder from the approach registry) holds a
group ``quantiles`` with one dataset ``K{K}`` per number of cells — the run's cell fractions,
``(K,)``, or ``(n_generated, K)`` for generators — and a group ``marginals`` with one dataset
``q{q}`` per number of quantiles per coordinate — the per-coordinate fractions, ``(dim, q)`` or
``(n_generated, dim, q)``. The gather reads only these, so every approach plugs into the same
tables.

Every DCTR job on feature arrays — the toys, the calorimeter's HL classifier and closures, the
reweighted GANs of the amplification study — goes through :func:`cross_fit_job`: one
cross-fitted classifier of any kind (:mod:`ganplify.dctr.classifiers`) of truth against
generated events, with the datasets and attributes every weights file holds; and
:func:`reweight_job`, which turns it into weights with their diagnostics.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.io import read_dataset
from ..densities.truth import CamelBack, Shell


def truth_from_config(truth_cfg: Mapping):
    """The truth density described by a study's ``truth`` mapping."""
    kind = truth_cfg.get("kind")
    if kind == "camelback":
        return CamelBack(
            mu=float(truth_cfg.get("mu", 4.0)), sigma=float(truth_cfg.get("sigma", 1.0))
        )
    if kind == "shell":
        return Shell(
            dim=int(truth_cfg["dim"]),
            r_mean=float(truth_cfg.get("r_mean", 4.0)),
            r_sigma=float(truth_cfg.get("r_sigma", 1.0)),
        )
    raise ValueError(f"truth.kind: unknown truth density {kind!r} (known: 'camelback', 'shell')")


def torch_device(threads: int) -> str:
    """Set this job's CPU threads (PyTorch's and every OpenMP library's: the boosted trees');
    the device its tensors go to (a GPU where there is one)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(int(threads))
    threadpool_limits(limits=int(threads), user_api="openmp")
    return "cuda" if torch.cuda.is_available() else "cpu"


def cross_fit_job(
    x_truth,
    x_gen,
    *,
    classifier: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    identity: tuple,
    threads: int,
    w_gen=None,
    max_train_gen: int | None = None,
):
    """Cross-fit the DCTR classifier ``classifier`` (its ``kind`` and settings:
    :func:`ganplify.dctr.classifiers.classifier_config`) of ``x_truth`` against ``x_gen``
    (weighted by ``w_gen``: a closure test; ``max_train_gen``: see
    :func:`ganplify.dctr.crossfit.cross_fit`). Returns the fit, its datasets (out-of-fold h,
    folds, training histories) and its attributes (settings, temperatures, AUC and JSD with the
    generated events weighted)."""
    from ..dctr.classifiers import classifier_config
    from ..dctr.crossfit import cross_fit
    from ..dctr.metrics import auc, jsd_from_bce

    cf = cross_fit(
        x_truth,
        x_gen,
        classifier_config(classifier),
        folds=int(folds),
        calibration=calibration,
        seed=seed,
        identity=identity,
        w_gen=w_gen,
        device=torch_device(threads),
        max_train_gen=max_train_gen,
    )
    h = np.concatenate([cf.h_truth, cf.h_gen])
    y = np.concatenate([np.ones(len(x_truth)), np.zeros(len(x_gen))])
    sample_w = np.concatenate(
        [np.ones(len(x_truth)), np.ones(len(x_gen)) if w_gen is None else w_gen]
    )
    datasets = {
        "h_truth": cf.h_truth,
        "h_gen": cf.h_gen,
        "fold_truth": cf.fold_truth,
        "fold_gen": cf.fold_gen,
        # repeat r's fold f is at r·folds + f (cross_fit); repeat 0 keeps the single fit's names
        **{
            f"history/{f'repeat{i // folds}/' if i >= folds else ''}fold{i % folds}": hist
            for i, hist in enumerate(cf.histories)
        },
    }
    attrs = {
        "seed": seed,
        "classifier": dict(classifier),
        "folds": int(folds),
        "calibration": calibration,
        "temperatures": [c.temperature for c in cf.calibrations],
        "auc": auc(h, y, sample_w),
        "jsd": jsd_from_bce(h, y, sample_w),
    }
    return cf, datasets, attrs


def reweight(x_truth, x_gen, *, weights: Mapping, **fit):
    """:func:`cross_fit_job` (``fit``: its keyword arguments), then w = h/(1 − h) clipped,
    capped and normalised (``weights``: :class:`ganplify.dctr.weights.WeightSettings`). Returns
    the weights, their diagnostics, and the fit's datasets and attributes (with the weights')."""
    from ..dctr.weights import WeightSettings, dctr_weights

    cf, datasets, attrs = cross_fit_job(x_truth, x_gen, **fit)
    w, diag = dctr_weights(
        cf.h_gen, WeightSettings.from_config(weights), x_gen=x_gen, x_truth=x_truth
    )
    attrs |= {"weight_settings": dict(weights), "diagnostics": diag.as_dict()}
    return w, diag, datasets, attrs


def reweight_job(x_truth, x_gen, out, *, weights: Mapping, extra_attrs: Mapping = (), **fit):
    """The DCTR weights file of ``x_gen`` against ``x_truth`` (:func:`reweight`), written to
    ``out``. Returns the diagnostics."""
    from ..core.io import provenance, write_h5

    w, diag, datasets, attrs = reweight(x_truth, x_gen, weights=weights, **fit)
    write_h5(out, {**datasets, "weights": w}, provenance(**attrs, **dict(extra_attrs)))
    return diag


def judge(x_judge, x_gen, w_gen, **fit):
    """The closure test that cannot flatter: fresh cross-fitted classifiers (``fit``: the
    keyword arguments of :func:`cross_fit_job`, a classifier at least as strong as the
    reweighter's) of an *independent* truth sample ``x_judge`` — events no reweighter saw —
    against the generated events, unweighted and weighted by ``w_gen``. Returns both fits'
    outputs (``unweighted/…``, ``weighted/…``) and their AUCs (``auc_unweighted``, ``auc``, with
    their JSDs) and ``n_judge``."""
    identity = tuple(fit.pop("identity"))
    datasets, attrs = {}, {}
    for name, w in (("unweighted", None), ("weighted", w_gen)):
        _, d, a = cross_fit_job(x_judge, x_gen, identity=(*identity, name), w_gen=w, **fit)
        datasets |= {f"{name}/{k}": v for k, v in d.items()}
        attrs |= {k: v for k, v in a.items() if k not in ("auc", "jsd")}
        suffix = "" if w is not None else "_unweighted"
        attrs |= {f"auc{suffix}": a["auc"], f"jsd{suffix}": a["jsd"]}
    return datasets, attrs | {"n_judge": len(x_judge)}


def judge_job(x_judge, x_gen, w_gen, out, *, extra_attrs: Mapping = (), **fit):
    """:func:`judge`, written to ``out``; returns the attributes."""
    from ..core.io import provenance, write_h5

    datasets, attrs = judge(x_judge, x_gen, w_gen, **fit)
    attrs |= dict(extra_attrs)
    write_h5(out, datasets, provenance(**attrs))
    return attrs


def quantile_key(n_cells: int) -> str:
    """Dataset name of the cell fractions for ``n_cells`` quantiles."""
    return f"quantiles/K{int(n_cells)}"


def marginal_key(q: int) -> str:
    """Dataset name of the per-coordinate fractions for ``q`` quantiles per coordinate."""
    return f"marginals/q{int(q)}"


def fraction_datasets(
    cells: Mapping[int, np.ndarray], marginals: Mapping[int, np.ndarray]
) -> dict[str, np.ndarray]:
    """The ``quantiles/…`` and ``marginals/…`` datasets of a per-run file."""
    return {
        **{quantile_key(k): f for k, f in cells.items()},
        **{marginal_key(q): f for q, f in marginals.items()},
    }


def read_fractions(path, n_cells: int) -> np.ndarray:
    """Cell fractions for ``n_cells`` quantiles stored in a per-run file."""
    return read_dataset(path, quantile_key(n_cells))

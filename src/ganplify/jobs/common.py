"""What the jobs of the GANplifying study share: the truth from the config, and the per-run file.

Every per-run file (``results/{study}/{folder}/{i}.h5``, folder from the approach registry) holds a
group ``quantiles`` with one dataset ``K{K}`` per number of cells — the run's cell fractions,
``(K,)``, or ``(n_generated, K)`` for generators — and a group ``marginals`` with one dataset
``q{q}`` per number of quantiles per coordinate — the per-coordinate fractions, ``(dim, q)`` or
``(n_generated, dim, q)``. The gather reads only these, so every approach plugs into the same
tables.

Every DCTR job on feature arrays — the toys, the calorimeter's HL classifier, the reweighted GANs
of the amplification study — goes through :func:`reweight_job`: the stored reweighter
(:mod:`ganplify.dctr.reweighter`) fitted on the fitting events, written with the weights of the
fitting events (out of fold) and of the evaluation events (the stored function's), in the one
weights-file layout of :func:`weights_datasets`; and every judge through :func:`judge_job`.
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


def fit_auc(cf) -> tuple[float, float]:
    """The cross-fit's own AUC and JSD of its out-of-fold outputs: a diagnostic of the fit on the
    fitting events (what the classifier found), never a fidelity number (that is the judge's)."""
    from ..dctr.metrics import auc, jsd_from_bce

    h = np.concatenate([cf.h_truth, cf.h_gen])
    y = np.concatenate([np.ones(len(cf.h_truth)), np.zeros(len(cf.h_gen))])
    return auc(h, y), jsd_from_bce(h, y)


def weights_datasets(cf, w_fit, rw, h_eval, w_eval, index: Mapping) -> dict:
    """The datasets of every weights file, for classifiers on arrays and on streamed showers
    alike: the fit's out-of-fold outputs (``h_truth``, ``h_gen``), folds (every repeat's in
    ``repeat_fold_*``) and training histories; the fitting events' out-of-fold ``weights``; the
    evaluation events' ``evaluation/h`` and ``evaluation/weights`` (the stored reweighter's);
    and which events each was (``index``: ``fit/truth_index``, ``fit/generated_index``,
    ``evaluation/generated_index``: rows of the samples named in the attributes)."""
    k = rw.folds
    return {
        "h_truth": cf.h_truth,
        "h_gen": cf.h_gen,
        "fold_truth": cf.fold_truth,
        "fold_gen": cf.fold_gen,
        "repeat_fold_truth": cf.repeat_fold_truth,
        "repeat_fold_gen": cf.repeat_fold_gen,
        "weights": w_fit,
        "evaluation/h": h_eval,
        "evaluation/weights": w_eval,
        **{name: np.asarray(v) for name, v in index.items()},
        # repeat r's fold f is at r·k + f; repeat 0 keeps the single fit's names; every history
        # has two columns, training and validation loss (NaN where there is none)
        **{
            f"history/{f'repeat{i // k}/' if i >= k else ''}fold{i % k}": _two_columns(hist)
            for i, hist in enumerate(cf.histories)
        },
    }


def _two_columns(history) -> np.ndarray:
    h = np.asarray(history, dtype=float)
    if h.ndim == 1:
        h = np.stack([h, np.full_like(h, np.nan)], axis=1)
    return h


def reweight_job(
    x_truth,
    x_gen,
    x_eval,
    out,
    model_out,
    *,
    spec: Mapping,
    seed: int,
    identity: tuple,
    threads: int,
    features,
    events: Mapping,
    extra_attrs: Mapping = (),
    initial_weights=None,
    eval_initial_weights=None,
):
    """Fit the reweighter ``spec`` (:func:`ganplify.dctr.reweighter.fit`) on the fitting truth
    ``x_truth`` and generated events ``x_gen``; store it in ``model_out``; weight the fitting
    events out of fold and the evaluation events ``x_eval`` with the stored reweighter, as loaded
    back from its file; write the weights file ``out`` (:func:`weights_datasets`). ``events``:
    the samples and rows of the three event sets (``fit_truth``, ``fit_generated``,
    ``evaluation_generated``: ``(sample name, row indices)``). Returns the reweighter and the
    fitting and evaluation events' weight diagnostics."""
    from ..core.io import provenance, write_h5
    from ..dctr import reweighter

    spec_ = reweighter.ReweighterSpec.from_mapping(spec)
    rw, cf = reweighter.fit(
        x_truth,
        x_gen,
        spec_,
        seed=seed,
        identity=identity,
        features=features,
        initial_weights=initial_weights,
        device=torch_device(threads),
    )
    w_fit, diag = rw.weights(x_gen, folds=cf.repeat_fold_gen, initial_weights=initial_weights)
    rw.save(model_out)
    stored = reweighter.load(model_out, features=features)
    h_eval = stored.h(x_eval)
    w_eval, eval_diag = stored.weights_from_h(h_eval, x_eval, None, eval_initial_weights)
    auc_fit, jsd_fit = fit_auc(cf)
    index = {
        "fit/truth_index": events["fit_truth"][1],
        "fit/generated_index": events["fit_generated"][1],
        "evaluation/generated_index": events["evaluation_generated"][1],
    }
    attrs = {
        "seed": seed,
        "spec": spec_.as_dict(),
        "features": list(features),
        "model_file": str(model_out),
        "fit_auc": auc_fit,
        "fit_jsd": jsd_fit,
        "diagnostics": diag.as_dict(),
        "evaluation_diagnostics": eval_diag.as_dict(),
        "fit_truth_sample": events["fit_truth"][0],
        "fit_generated_sample": events["fit_generated"][0],
        "evaluation_generated_sample": events["evaluation_generated"][0],
        "temperatures": [c.temperature for c in cf.calibrations],
    }
    write_h5(
        out,
        weights_datasets(cf, w_fit, rw, h_eval, w_eval, index),
        provenance(**attrs, **dict(extra_attrs)),
    )
    return rw, diag, eval_diag


def judge_job(
    x_truth,
    x_gen,
    w_gen,
    out,
    *,
    judge: Mapping,
    seed: int,
    identity: tuple,
    events: Mapping,
    extra_attrs: Mapping = (),
):
    """The judge (:func:`ganplify.dctr.judge.judge`) of the evaluation events ``x_gen`` with
    weights ``w_gen`` on the evaluation truth ``x_truth``, with its controls, written to ``out``;
    ``events``: ``evaluation_truth`` and ``evaluation_generated`` (sample name, rows). Returns
    the :class:`ganplify.dctr.judge.JudgeResult`."""
    from ..core.io import provenance, write_h5
    from ..dctr.judge import JudgeConfig
    from ..dctr.judge import judge as run_judge

    cfg = JudgeConfig.from_config(judge)
    result, outputs = run_judge(x_truth, x_gen, w_gen, cfg, seed=seed, identity=identity)
    datasets = outputs | {
        "evaluation/truth_index": np.asarray(events["evaluation_truth"][1]),
        "evaluation/generated_index": np.asarray(events["evaluation_generated"][1]),
    }
    attrs = result.as_dict() | {
        "seed": seed,
        "judge": dict(judge),
        "evaluation_truth_sample": events["evaluation_truth"][0],
        "evaluation_generated_sample": events["evaluation_generated"][0],
    }
    write_h5(out, datasets, provenance(**attrs, **dict(extra_attrs)))
    return result


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

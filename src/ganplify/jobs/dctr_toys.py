"""rules/dctr_toys.smk: the DCTR paper's toys — truth samples, a GAN per toy, its DCTR weights,
the judge, the summary table and Fig. 1; and the null tests, toys whose "generator" is their own
truth (``dctr_toys.null_tests``: ``null_{toy}``), where every reported gain must vanish.

The evaluation protocol (docs/science.md §2.8): the reweighter is fitted on the *fitting* events
— the classifier's truth sample ``truth`` and the GAN's ``generated`` events — and every number
the summary, the judge and the figures report is measured on *evaluation* events no fitting step
saw: the independent truth sample ``test`` and a second draw of the GAN, ``evaluation``, weighted
by the stored reweighter.

Files per toy under ``results/dctr_toys/{toy}/``: ``truth.h5`` (the GAN's training sample
``train``, the fitting truth ``truth`` and the evaluation truth ``test``), ``gan.h5`` (the fitting
events ``generated``, the evaluation events ``evaluation``, losses, generator weights),
``reweighter.h5`` (the stored reweighter), ``weights.h5`` (the fitting events' out-of-fold and
the evaluation events' weights, :func:`.common.weights_datasets`) and ``judge.h5`` (the judge of
the evaluation events' weights on ``test``, with its controls).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from ..core.runtime import inject_fault
from ..densities.toys import TOYS
from .common import judge_job, reweight_job, torch_device

log = logging.getLogger("ganplify")

SUMMARY_COLUMNS = [
    "toy",
    "observable",
    "targeted",
    "s2_gan",
    "s2_dctr",
    "s2_ratio",
    "s2_ratio_err",
    "s2_floor_gan",
    "s2_floor_dctr",
    "r_gan",
    "r_dctr",
    "neff_fraction",
    "judge_auc_gan",
    "judge_auc_gan_err",
    "judge_auc_dctr",
    "judge_auc_dctr_err",
    "judge_auc_null",
    "judge_auc_null_err",
    "n_evaluation_truth",
    "n_evaluation_generated",
    "evaluation_digest",
]

#: The prefix of a null test's name: ``null_circle_8`` is the toy ``circle_8`` whose generator
#: draws from the truth itself.
NULL_PREFIX = "null_"


def toy_density(toy: str):
    """The truth density of ``toy`` (a null test's: its base toy's)."""
    return TOYS[toy.removeprefix(NULL_PREFIX)]()


def toy_truth(out, *, toy: str, n_train: int, n_truth: int, seed: int) -> None:
    """The GAN's training sample, an independent truth sample for the classifier and a third of
    the same size that only judges (the summary's S² and the judge's closure)."""
    density = toy_density(toy)
    write_h5(
        out,
        {
            "train": density.sample(n_train, seeding.rng(seed, "dctr_toys", toy, "train")),
            "truth": density.sample(n_truth, seeding.rng(seed, "dctr_toys", toy, "truth")),
            "test": density.sample(n_truth, seeding.rng(seed, "dctr_toys", toy, "test")),
        },
        provenance(seed=seed, toy=toy, n_train=int(n_train), n_truth=int(n_truth)),
    )


def train_toy_gan(
    truth_file, out, *, toy: str, gan: Mapping, n_generated: int, seed: int, threads: int = 1
) -> None:
    """Train the toy GAN on the training sample and generate ``n_generated`` events."""
    inject_fault(out)
    import torch

    from ..gan.toy import ToyGanConfig
    from ..gan.toy import train_toy_gan as train

    device = torch_device(threads)
    cfg = ToyGanConfig.from_config(gan)
    x = read_dataset(truth_file, "train")
    model, history = train(
        x, cfg, seed=seeding.torch_seed(seed, "dctr_toys", toy, "gan"), device=device
    )
    gen = torch.Generator(device).manual_seed(
        seeding.torch_seed(seed, "dctr_toys", toy, "gan", "generate")
    )
    events = model.generate(int(n_generated), gen)
    # the evaluation events: a second draw, from its own stream, that no reweighter trains on
    evaluation = model.generate(
        int(n_generated),
        torch.Generator(device).manual_seed(
            seeding.torch_seed(seed, "dctr_toys", toy, "gan", "generate", "evaluation")
        ),
    )
    write_h5(
        out,
        {
            "generated": events,
            "evaluation": evaluation,
            "history": history,
            **{f"generator/{k}": v.cpu().numpy() for k, v in model.state_dict().items()},
        },
        provenance(
            seed=seed, toy=toy, gan=dict(gan), device=device, torch_version=torch.__version__
        ),
    )
    log.info("toy %s: %d iterations, %d events generated", toy, cfg.iterations, len(events))


def null_generator(out, *, toy: str, n_generated: int, seed: int) -> None:
    """The null test's generator: its fitting and evaluation events drawn from the truth itself
    (own streams), in the layout of a GAN's file."""
    density = toy_density(toy)
    write_h5(
        out,
        {
            name: density.sample(int(n_generated), seeding.rng(seed, "dctr_toys", toy, name))
            for name in ("generated", "evaluation")
        },
        provenance(seed=seed, toy=toy, null_test=True),
    )


def toy_features(x) -> list[str]:
    """The classifier's input names of a toy's events: x (1D) or x1, x2."""
    return ["x"] if np.shape(x)[1] == 1 else [f"x{j + 1}" for j in range(np.shape(x)[1])]


def toy_dctr(
    truth_file,
    gan_file,
    out,
    model_out,
    *,
    toy: str,
    reweighter: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """The stored reweighter of a toy, fitted on the fitting truth ``truth`` against the GAN's
    ``generated`` events; the weights of those (out of fold) and of its ``evaluation`` events."""
    inject_fault(out)
    x_truth, x_gen = read_dataset(truth_file, "truth"), read_dataset(gan_file, "generated")
    x_eval = read_dataset(gan_file, "evaluation")
    _, diag, eval_diag = reweight_job(
        x_truth,
        x_gen,
        x_eval,
        out,
        model_out,
        spec=reweighter,
        seed=seed,
        identity=("dctr_toys", toy, "dctr"),
        threads=threads,
        features=toy_features(x_gen),
        events={
            "fit_truth": ("truth", np.arange(len(x_truth))),
            "fit_generated": ("generated", np.arange(len(x_gen))),
            "evaluation_generated": ("evaluation", np.arange(len(x_eval))),
        },
        extra_attrs={"toy": toy},
    )
    log.info("toy %s: weights %s; evaluation events %s", toy, diag.as_dict(), eval_diag.as_dict())


def toy_judge(
    truth_file,
    gan_file,
    weights_file,
    out,
    *,
    toy: str,
    judge: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """The judge (:func:`.common.judge_job`) of the evaluation events' weights, on the
    evaluation truth ``test``, with its controls."""
    inject_fault(out)
    torch_device(threads)
    x_test, x_eval = read_dataset(truth_file, "test"), read_dataset(gan_file, "evaluation")
    judge_job(
        x_test,
        x_eval,
        read_dataset(weights_file, "evaluation/weights"),
        out,
        judge=judge,
        seed=seed,
        identity=("dctr_toys", toy, "judge"),
        events={
            "evaluation_truth": ("test", np.arange(len(x_test))),
            "evaluation_generated": ("evaluation", np.arange(len(x_eval))),
        },
        extra_attrs={"toy": toy, "weights_file": str(weights_file)},
    )


#: The toys' observables that are the classifier's inputs: what a reweighter (or raking) targets.
TARGETED = ("x", "x1", "x2")
#: Cells per coordinate of the 2D toys' joint histogram (``cell_10x10``: its S² is the 2D one).
GRID = 10


def toy_observables(x: np.ndarray, centre, grid=None) -> dict[str, np.ndarray]:
    """The observables of a toy's events: its coordinates (the classifier's inputs) and, in 2D,
    what no reweighter targets — radius and angle about ``centre``, x1 + x2, x1 − x2, x1 · x2
    and, with ``grid`` (the x1 and x2 edges of a :data:`GRID` × :data:`GRID` histogram), each
    event's cell of it (``cell_10x10``)."""
    x = np.asarray(x, dtype=float)
    if x.shape[1] == 1:
        return {"x": x[:, 0]}
    d = x - np.asarray(centre, dtype=float)
    out = {
        "x1": x[:, 0],
        "x2": x[:, 1],
        "radius": np.hypot(d[:, 0], d[:, 1]),
        "angle": np.arctan2(d[:, 1], d[:, 0]),
        "x1_plus_x2": x[:, 0] + x[:, 1],
        "x1_minus_x2": x[:, 0] - x[:, 1],
        "x1_times_x2": x[:, 0] * x[:, 1],
    }
    if grid is not None:
        # events outside the grid's range get cell -1: they fall out of the histogram
        i, j = (np.searchsorted(e, x[:, k], side="right") - 1 for k, e in enumerate(grid))
        inside = (i >= 0) & (i < GRID) & (j >= 0) & (j < GRID)
        out[f"cell_{GRID}x{GRID}"] = np.where(inside, i * GRID + j, -1).astype(float)
    return out


def grid_edges(x_truth: np.ndarray) -> list[np.ndarray]:
    """The x1 and x2 edges of the joint histogram: :data:`GRID` bins over the truth's 0.05–99.95 %
    range."""
    return [np.linspace(*np.quantile(x_truth[:, k], [0.0005, 0.9995]), GRID + 1) for k in (0, 1)]


def observable_bins(name: str, truth_values: np.ndarray, n_bins: int) -> np.ndarray:
    """Histogram edges: the truth's 0.05–99.95 % range (the full circle for angles, one bin per
    cell of the joint histogram)."""
    if name == "angle":
        return np.linspace(-np.pi, np.pi, n_bins + 1)
    if name.startswith("cell_"):
        return np.arange(GRID * GRID + 1) - 0.5
    lo, hi = np.quantile(truth_values, [0.0005, 0.9995])
    return np.linspace(lo, hi, n_bins + 1)


def toy_centre(toy: str) -> np.ndarray:
    """Centre of a toy's components: the origin of its radius and angle."""
    return np.mean(np.asarray(toy_density(toy).means), axis=0)


def evaluation_events(truth_file, gan_file, weights_file):
    """The evaluation truth ``test``, the evaluation events and their stored weights."""
    return (
        read_dataset(truth_file, "test"),
        read_dataset(gan_file, "evaluation"),
        read_dataset(weights_file, "evaluation/weights"),
    )


def toy_summary(
    files: Mapping[str, Mapping[str, str]],
    out_csv,
    *,
    bins: int,
    bootstrap_replicas: int,
    seed: int,
) -> list[dict]:
    """S² (with its bootstrap error and its floor), r, N_eff and the judge's AUCs per toy and
    observable, the GAN's evaluation events unweighted and weighted by the stored reweighter,
    against the evaluation truth ``test`` — events no fitting step saw. ``files[toy]`` names the
    toy's ``truth``, ``gan``, ``weights`` and ``judge`` files. ``s2_floor_*`` is the S² expected
    of two samples of one density of the sizes compared (the weighted one at its N_eff);
    ``targeted``: the observable is a classifier input."""
    from ..core.events import digest
    from ..dctr.metrics import (
        dilution,
        expected_separation_power_of_equal_samples,
        separation_power,
        separation_power_ratio_errors,
    )
    from ..dctr.weights import effective_sample_size

    rows = []
    for toy, f in files.items():
        x_truth, x_gen, w = evaluation_events(f["truth"], f["gan"], f["weights"])
        judged = read_attrs(f["judge"])
        grid = grid_edges(x_truth) if x_truth.shape[1] == 2 else None
        obs_t = toy_observables(x_truth, toy_centre(toy), grid)
        obs_g = toy_observables(x_gen, toy_centre(toy), grid)
        names = list(obs_t)
        ft = np.stack([obs_t[n] for n in names], axis=1)
        fg = np.stack([obs_g[n] for n in names], axis=1)
        edges = [observable_bins(n, obs_t[n], int(bins)) for n in names]
        boot = dict(n_replicas=int(bootstrap_replicas))
        r_gan = dilution(ft, fg, rng=seeding.rng(seed, "dctr_toys", toy, "r", "gan"), **boot)
        r_dctr = dilution(
            ft, fg, w_gen=w, rng=seeding.rng(seed, "dctr_toys", toy, "r", "dctr"), **boot
        )
        ratio_err = separation_power_ratio_errors(
            ft, fg, edges, w, rng=seeding.rng(seed, "dctr_toys", toy, "s2"), **boot
        )
        n_eff = effective_sample_size(w)
        provenance_ = {
            "n_evaluation_truth": len(x_truth),
            "n_evaluation_generated": len(x_gen),
            "evaluation_digest": digest("test", np.arange(len(x_truth)))
            + ":"
            + digest("evaluation", np.arange(len(x_gen))),
        }
        for j, name in enumerate(names):
            s2_gan = separation_power(ft[:, j], fg[:, j], edges[j])
            s2_dctr = separation_power(ft[:, j], fg[:, j], edges[j], w2=w)
            populated = len(edges[j]) - 1
            categorical = name.startswith("cell_")
            rows.append(
                {
                    "toy": toy,
                    "observable": name,
                    "targeted": name in TARGETED,
                    "s2_gan": s2_gan,
                    "s2_dctr": s2_dctr,
                    "s2_ratio": s2_dctr / s2_gan if s2_gan > 0 else float("nan"),
                    "s2_ratio_err": float(ratio_err[j]),
                    "s2_floor_gan": expected_separation_power_of_equal_samples(
                        len(x_truth), len(x_gen), populated
                    ),
                    "s2_floor_dctr": expected_separation_power_of_equal_samples(
                        len(x_truth), n_eff, populated
                    ),
                    # the mean of a cell number means nothing: no dilution for it
                    "r_gan": float("nan") if categorical else float(r_gan[j]),
                    "r_dctr": float("nan") if categorical else float(r_dctr[j]),
                    "neff_fraction": n_eff / len(w),
                    "judge_auc_gan": float(judged["auc_unweighted"]),
                    "judge_auc_gan_err": float(judged["auc_unweighted_err"]),
                    "judge_auc_dctr": float(judged["auc"]),
                    "judge_auc_dctr_err": float(judged["auc_err"]),
                    "judge_auc_null": float(judged["auc_null"]),
                    "judge_auc_null_err": float(judged["auc_null_err"]),
                    **provenance_,
                }
            )
            log.info("%s", rows[-1])
    write_csv(out_csv, rows, SUMMARY_COLUMNS)
    return rows


def toys_figure(files: Mapping[str, Mapping[str, str]], *, outputs: Sequence[str]) -> None:
    """Fig. 1: rows are the toys; columns truth, GAN and DCTR-weighted GAN — the evaluation
    events, weighted by the stored reweighter."""
    from ..core.plotting import save
    from ..dctr.figures import toys_figure as figure

    panels = {
        toy: evaluation_events(f["truth"], f["gan"], f["weights"]) for toy, f in files.items()
    }
    save(figure(panels), outputs)


def marginals_figure(
    truth_file, gan_file, weights_file, summary_csv, *, toy: str, bins: int, outputs: Sequence[str]
) -> None:
    """A toy's observables: truth, GAN and DCTR-weighted GAN (evaluation events) with ratio
    panels, S² and r."""
    import pandas as pd

    from ..core.plotting import save
    from ..dctr.figures import marginals_figure as figure

    x_truth, x_gen, w = evaluation_events(truth_file, gan_file, weights_file)
    obs_t = toy_observables(x_truth, toy_centre(toy))
    obs_g = toy_observables(x_gen, toy_centre(toy))
    hists = {
        name: (obs_t[name], obs_g[name], observable_bins(name, obs_t[name], int(bins)))
        for name in obs_t
    }
    summary = pd.read_csv(summary_csv)
    rows = summary[summary.toy == toy].set_index("observable")
    save(figure(toy, hists, w, rows), outputs)

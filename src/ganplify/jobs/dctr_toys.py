"""rules/dctr_toys.smk: the DCTR paper's toys — truth samples, a GAN per toy, its DCTR weights,
the closure classifier, the summary table and Fig. 1.

Files per toy under ``results/dctr_toys/{toy}/``: ``truth.h5`` (the GAN's training sample
``train``, the classifier's truth sample ``truth`` and a third, independent one, ``test``, that
only judges), ``gan.h5`` (generated events, losses, generator weights), ``weights.h5``
(out-of-fold classifier outputs and DCTR weights with their diagnostics), ``closure.h5`` (the
paper's closure: a fresh classifier of the reweighter's kind, of the same truth against the
weighted events) and ``judge.h5`` (the closure that cannot flatter: the boosted trees, of the
independent ``test`` sample against the events, unweighted and weighted). The summary's S² and
r are measured against ``test``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from ..core.runtime import inject_fault
from ..densities.toys import TOYS
from .common import cross_fit_job, judge_job, reweight_job, torch_device

log = logging.getLogger("ganplify")

SUMMARY_COLUMNS = [
    "toy",
    "observable",
    "s2_gan",
    "s2_dctr",
    "r_gan",
    "r_dctr",
    "neff_fraction",
    "auc_gan",
    "auc_dctr",
    "judge_auc_gan",
    "judge_auc_dctr",
    "s2_floor",
]


def toy_truth(out, *, toy: str, n_train: int, n_truth: int, seed: int) -> None:
    """The GAN's training sample, an independent truth sample for the classifier and a third of
    the same size that only judges (the summary's S² and the judge's closure)."""
    density = TOYS[toy]()
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
    write_h5(
        out,
        {
            "generated": events,
            "history": history,
            **{f"generator/{k}": v.cpu().numpy() for k, v in model.state_dict().items()},
        },
        provenance(
            seed=seed, toy=toy, gan=dict(gan), device=device, torch_version=torch.__version__
        ),
    )
    log.info("toy %s: %d iterations, %d events generated", toy, cfg.iterations, len(events))


def _classifier_inputs(truth_file, gan_file):
    return read_dataset(truth_file, "truth"), read_dataset(gan_file, "generated")


def toy_dctr(
    truth_file,
    gan_file,
    out,
    *,
    toy: str,
    classifier: Mapping,
    folds: int,
    calibration: str,
    weights: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """Cross-fitted DCTR classifier of truth against the GAN: out-of-fold h and weights."""
    inject_fault(out)
    diag = reweight_job(
        *_classifier_inputs(truth_file, gan_file),
        out,
        weights=weights,
        extra_attrs={"toy": toy},
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("dctr_toys", toy, "dctr"),
        threads=threads,
    )
    log.info("toy %s: weights %s", toy, diag.as_dict())


def toy_closure(
    truth_file,
    gan_file,
    weights_file,
    out,
    *,
    toy: str,
    classifier: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Closure test: a fresh cross-fitted classifier of truth against the *weighted* GAN events.

    Its calibrated AUC should be near 0.5 if the weights are right.
    """
    inject_fault(out)
    _, datasets, attrs = cross_fit_job(
        *_classifier_inputs(truth_file, gan_file),
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("dctr_toys", toy, "closure"),
        threads=threads,
        w_gen=read_dataset(weights_file, "weights"),
    )
    write_h5(out, datasets, provenance(**attrs, toy=toy, weights_file=str(weights_file)))


def toy_judge(
    truth_file,
    gan_file,
    weights_file,
    out,
    *,
    toy: str,
    classifier: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    threads: int = 1,
) -> None:
    """The judge: the boosted trees of the independent ``test`` sample against the GAN's events,
    unweighted and weighted (:func:`.common.judge_job`)."""
    inject_fault(out)
    judge_job(
        read_dataset(truth_file, "test"),
        read_dataset(gan_file, "generated"),
        read_dataset(weights_file, "weights"),
        out,
        extra_attrs={"toy": toy, "weights_file": str(weights_file)},
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("dctr_toys", toy, "judge"),
        threads=threads,
    )


def toy_observables(x: np.ndarray, centre) -> dict[str, np.ndarray]:
    """The observables of a toy: its coordinates and, in 2D, radius and angle about ``centre``."""
    x = np.asarray(x, dtype=float)
    if x.shape[1] == 1:
        return {"x": x[:, 0]}
    d = x - np.asarray(centre, dtype=float)
    return {
        "x1": x[:, 0],
        "x2": x[:, 1],
        "radius": np.hypot(d[:, 0], d[:, 1]),
        "angle": np.arctan2(d[:, 1], d[:, 0]),
    }


def observable_bins(name: str, truth_values: np.ndarray, n_bins: int) -> np.ndarray:
    """Histogram edges: the truth's 0.05–99.95 % range (the full circle for angles)."""
    if name == "angle":
        return np.linspace(-np.pi, np.pi, n_bins + 1)
    lo, hi = np.quantile(truth_values, [0.0005, 0.9995])
    return np.linspace(lo, hi, n_bins + 1)


def toy_centre(toy: str) -> np.ndarray:
    """Centre of a toy's components: the origin of its radius and angle."""
    return np.mean(np.asarray(TOYS[toy]().means), axis=0)


def toy_summary(
    files: Mapping[str, Mapping[str, str]],
    out_csv,
    *,
    bins: int,
    bootstrap_replicas: int,
    seed: int,
) -> list[dict]:
    """S², r, N_eff and AUCs per toy and observable, GAN against DCTR-weighted GAN.

    ``files[toy]`` names the toy's ``truth``, ``gan``, ``weights``, ``closure`` and ``judge``
    files. S² and r are measured against the independent ``test`` sample, which neither the GAN
    nor the reweighter saw; ``s2_floor`` is the S² expected of two samples of one density of
    the sizes compared (the test sample's and the weights' N_eff).
    """
    from ..dctr.metrics import (
        dilution,
        expected_separation_power_of_equal_samples,
        separation_power,
    )
    from ..dctr.weights import effective_sample_size

    rows = []
    for toy, f in files.items():
        x_truth, x_gen = read_dataset(f["truth"], "test"), read_dataset(f["gan"], "generated")
        w = read_dataset(f["weights"], "weights")
        wattrs, cattrs = read_attrs(f["weights"]), read_attrs(f["closure"])
        jattrs = read_attrs(f["judge"])
        floor = expected_separation_power_of_equal_samples(
            len(x_truth), effective_sample_size(w), int(bins)
        )
        obs_t = toy_observables(x_truth, toy_centre(toy))
        obs_g = toy_observables(x_gen, toy_centre(toy))
        names = list(obs_t)
        ft = np.stack([obs_t[n] for n in names], axis=1)
        fg = np.stack([obs_g[n] for n in names], axis=1)
        boot = dict(n_replicas=int(bootstrap_replicas))
        r_gan = dilution(ft, fg, rng=seeding.rng(seed, "dctr_toys", toy, "r", "gan"), **boot)
        r_dctr = dilution(
            ft, fg, w_gen=w, rng=seeding.rng(seed, "dctr_toys", toy, "r", "dctr"), **boot
        )
        for j, name in enumerate(names):
            edges = observable_bins(name, obs_t[name], int(bins))
            rows.append(
                {
                    "toy": toy,
                    "observable": name,
                    "s2_gan": separation_power(obs_t[name], obs_g[name], edges),
                    "s2_dctr": separation_power(obs_t[name], obs_g[name], edges, w2=w),
                    "r_gan": float(r_gan[j]),
                    "r_dctr": float(r_dctr[j]),
                    "neff_fraction": float(wattrs["diagnostics"]["n_eff_fraction"]),
                    "auc_gan": float(wattrs["auc"]),
                    "auc_dctr": float(cattrs["auc"]),
                    "judge_auc_gan": float(jattrs["auc_unweighted"]),
                    "judge_auc_dctr": float(jattrs["auc"]),
                    "s2_floor": floor,
                }
            )
            log.info("%s", rows[-1])
    write_csv(out_csv, rows, SUMMARY_COLUMNS)
    return rows


def toys_figure(files: Mapping[str, Mapping[str, str]], *, outputs: Sequence[str]) -> None:
    """Fig. 1: rows are the toys; columns truth, GAN and DCTR-weighted GAN."""
    from ..core.plotting import save
    from ..dctr.figures import toys_figure as figure

    panels = {
        toy: (*_classifier_inputs(f["truth"], f["gan"]), read_dataset(f["weights"], "weights"))
        for toy, f in files.items()
    }
    save(figure(panels), outputs)


def marginals_figure(
    truth_file, gan_file, weights_file, summary_csv, *, toy: str, bins: int, outputs: Sequence[str]
) -> None:
    """A toy's observables: truth, GAN and DCTR-weighted GAN with ratio panels, S² and r."""
    import pandas as pd

    from ..core.plotting import save
    from ..dctr.figures import marginals_figure as figure

    x_truth, x_gen = _classifier_inputs(truth_file, gan_file)
    obs_t = toy_observables(x_truth, toy_centre(toy))
    obs_g = toy_observables(x_gen, toy_centre(toy))
    hists = {
        name: (obs_t[name], obs_g[name], observable_bins(name, obs_t[name], int(bins)))
        for name in obs_t
    }
    summary = pd.read_csv(summary_csv)
    rows = summary[summary.toy == toy].set_index("observable")
    save(figure(toy, hists, read_dataset(weights_file, "weights"), rows), outputs)

"""rules/dctr_amplification.smk: what is a reweighted GAN event worth? (DCTR meets amplification)

For run i of a GANplifying study, a DCTR reweighter separates the run's own training sample — the
only truth a user of a generator has — from events of its generator (approach ``gan`` or
``ensemble``): ``fit_generated`` fresh events drawn from the run's stored generators (their own
streams), cross-fitted over both (:mod:`ganplify.dctr.reweighter`; classes balanced by weight,
so that h/(1 − h) estimates p_train/p_gen), and stored. The run's generated events — the ones
its quantile errors are measured on, against the exact truth — are then weighted by the stored
reweighter, as new events: none of them was fitted on. The run's file holds the weights and the
*weighted* cell fractions of every prefix of the generated sample, the same layout as a
generator's run, so the gather, saturation and figures treat it as one more generator.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from ..amplification.cells import prefix_fractions
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_h5
from ..core.runtime import inject_fault
from .common import fraction_datasets, judge_job, reweight_job, torch_device, truth_from_config

log = logging.getLogger("ganplify")


def regenerate(generator_path, n: int, *, seed: int, purpose: str) -> np.ndarray:
    """``n`` new events of a run's generators (an ensemble's pooled, in equal shares), rebuilt
    from the weights its file stores, each member drawing from its own ``purpose`` stream."""
    import torch

    from ..gan.models import GanArchitecture, Generator, MemberStreams
    from ..gan.training import generate_events

    attrs = read_attrs(generator_path)
    members = int(attrs["members"])
    dim = read_dataset(generator_path, "generated").shape[1]
    arch = GanArchitecture.from_config(attrs["architecture"], dim=dim)
    G = Generator(members, arch)
    state = {}
    with h5py.File(generator_path, "r") as f:
        for name, item in f["generator"].items():
            state[name] = torch.from_numpy(item[()])
    G.load_state_dict(state)
    G.eval()
    seeds = seeding.member_seeds(
        seed, attrs["study"], attrs["approach"], int(attrs["index"]), members, purpose
    )
    per_member = -(-int(n) // members)
    dtype = next(iter(state.values())).dtype
    events = generate_events(
        G,
        per_member,
        MemberStreams(seeds),
        dtype,
        attrs.get("training", {}).get("matmul_precision", "highest"),
    )
    return events.transpose(1, 0, 2).reshape(-1, dim)[: int(n)]


def reweight_run(
    sample_path,
    generator_path,
    out,
    model_out,
    *,
    approach: str,
    truth: Mapping,
    quantiles: Sequence[int],
    reweighter: Mapping,
    fit_generated: int,
    judge: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """DCTR-weight the generated events of one run towards its training sample (a reweighter
    fitted on ``fit_generated`` other events of the same generators); score them.

    The judge (:mod:`ganplify.dctr.judge`): events drawn from the exact truth (as many as the
    fitting events, at most as many as the generated ones; no reweighter saw them) against the
    generated events, weighted and unweighted, with its null control: attributes
    ``judge_auc``, ``judge_auc_gan``, ``judge_auc_null`` and their errors."""
    inject_fault(out)
    from ..dctr.weights import effective_sample_size

    torch_device(threads)
    gen_attrs = read_attrs(generator_path)
    study, index = gen_attrs["study"], int(gen_attrs["index"])
    x = read_dataset(sample_path, "x")
    events = read_dataset(generator_path, "generated").astype(np.float64)
    sizes = read_dataset(generator_path, "n_generated")
    fit_events = regenerate(generator_path, fit_generated, seed=seed, purpose="generate_fit")
    with tempfile.TemporaryDirectory() as tmp:
        weights_file = Path(tmp) / "weights.h5"
        _, fit_diag, diag = reweight_job(
            x,
            fit_events,
            events,
            weights_file,
            model_out,
            spec=reweighter,
            seed=seed,
            identity=(study, approach, index),
            threads=threads,
            features=[f"x{j + 1}" for j in range(x.shape[1])],
            events={
                "fit_truth": ("sample", np.arange(len(x))),
                "fit_generated": ("generated_fit", np.arange(len(fit_events))),
                "evaluation_generated": ("generated", np.arange(len(events))),
            },
        )
        w = read_dataset(weights_file, "evaluation/weights")
        fit_attrs = read_attrs(weights_file)
        n_judge = min(len(events), int(fit_generated))
        x_judge = truth_from_config(truth).sample(
            n_judge, seeding.rng(seed, study, approach, index, "judge")
        )
        judged = judge_job(
            x_judge,
            events[:n_judge],
            w[:n_judge] / w[:n_judge].mean(),
            Path(tmp) / "judge.h5",
            judge=judge,
            seed=seed,
            identity=(study, approach, index, "judge"),
            events={
                "evaluation_truth": ("exact_truth", np.arange(n_judge)),
                "evaluation_generated": ("generated", np.arange(n_judge)),
            },
        )
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
            seed=seed,
            spec=fit_attrs["spec"],
            fit_auc=fit_attrs["fit_auc"],
            diagnostics=diag.as_dict(),
            fit_diagnostics=fit_diag.as_dict(),
            study=study,
            index=index,
            approach=approach,
            generator_file=str(generator_path),
            sample_file=str(sample_path),
            reweighter_file=str(model_out),
            n_fit_generated=int(fit_generated),
            truth=dict(truth),
            quantiles=list(quantiles),
            judge_auc=judged.auc,
            judge_auc_err=judged.auc_err,
            judge_auc_gan=judged.auc_unweighted,
            judge_auc_gan_err=judged.auc_unweighted_err,
            judge_auc_null=judged.auc_null,
            judge_auc_null_err=judged.auc_null_err,
            n_judge=n_judge,
        ),
    )
    log.info("%s %s/%d: N_eff/N %.3f, %s", approach, study, index, diag.n_eff_fraction, diag)

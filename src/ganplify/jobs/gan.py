"""rules/gan.smk: GAN and ensemble trainings, and the saturation of their error curves."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from ..amplification.cells import prefix_fractions
from ..amplification.tables import SATURATION_COLUMNS, saturation_rows
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from ..core.runtime import inject_fault, stop_on_signals
from .common import fraction_datasets, truth_from_config

log = logging.getLogger("ganplify")


def train_block(
    sample_paths: Sequence,
    out,
    *,
    approach: str,
    members: int,
    truth: Mapping,
    quantiles: Sequence[int],
    architecture: Mapping,
    training: Mapping,
    n_generated: Sequence[int],
    seed: int,
    checkpoint,
    checkpoint_every: int = 250,
    threads: int = 1,
    device: str | None = None,
    dtype: str = "float32",
    run_files: Sequence[str] = (),
) -> None:
    """Train the generators of a block of runs of ``approach`` as one batched model.

    Run i (training sample ``sample_paths[j]``) has ``members`` GANs — one GAN, or an ensemble
    whose events are the pooled events of its members, interleaved so that every prefix of the
    generated sample holds equal shares of every member. Each member draws everything random from
    its own stream (study seed, approach, run, member), so it is the same GAN in any block; a
    block of one run is the unpacked training. The block file holds, under ``runs/{i}/``, exactly
    the datasets of run i's file (:func:`unpack_run` writes it). Checkpoints go to ``checkpoint``
    (not a declared output, so Snakemake does not delete it before a rerun) and are removed once
    the block is written. ``run_files``: the per-run files this block feeds (fault injection and
    the log); ``dtype``: "float64" for exactness checks.
    """
    for target in (out, *run_files):
        inject_fault(target)
    import torch

    from ..gan.models import GanArchitecture, MemberStreams
    from ..gan.training import GanTrainer, TrainingConfig, train

    torch.set_num_threads(int(threads))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    attrs = [read_attrs(path) for path in sample_paths]
    study = attrs[0]["study"]
    indices = [int(a["index"]) for a in attrs]
    xs = [read_dataset(path, "x") for path in sample_paths]
    dim = xs[0].shape[1]
    arch = GanArchitecture.from_config(architecture, dim=dim)
    tcfg = TrainingConfig.from_config(training)
    seeds = [s for i in indices for s in seeding.member_seeds(seed, study, approach, i, members)]
    data = np.concatenate([np.repeat(x[None], members, axis=0) for x in xs])
    trainer = GanTrainer(data, arch, tcfg, seeds, device=device, dtype=getattr(torch, dtype))
    log.info(
        "%s %s, runs %s: %d GANs on %s, %d threads; for %s",
        approach,
        study,
        indices,
        len(seeds),
        device,
        threads,
        list(run_files) or "-",
    )
    train(
        trainer,
        checkpoint_path=checkpoint,
        checkpoint_every=int(checkpoint_every),
        should_stop=stop_on_signals(),
        log_every=max(1, tcfg.epochs // 20),
    )

    sizes = np.array(sorted(int(n) for n in n_generated))
    per_member = -(-int(sizes[-1]) // members)  # ceil
    gen_streams = MemberStreams(
        [
            s
            for i in indices
            for s in seeding.member_seeds(seed, study, approach, i, members, "generate")
        ],
        device=trainer.device,
    )
    events = trainer.generate(per_member, gen_streams)  # (runs · members, per_member, dim)
    history = np.asarray(trainer.history)  # (epochs, 2, runs · members)
    weights = {name: p.detach().cpu().numpy() for name, p in trainer.G.state_dict().items()}
    density = truth_from_config(truth)
    datasets, run_attrs = {}, {}
    for j, i in enumerate(indices):
        mine = slice(j * members, (j + 1) * members)
        pooled = events[mine].transpose(1, 0, 2).reshape(-1, dim)[: sizes[-1]]
        cells, marginals = prefix_fractions(pooled, density, quantiles, sizes)
        run = {
            "generated": pooled.astype(np.float32),
            "n_generated": sizes,
            "history": history[:, :, mine],
            **fraction_datasets(cells, marginals),
            **{f"generator/{name}": w[mine] for name, w in weights.items()},
        }
        datasets |= {f"runs/{i}/{name}": value for name, value in run.items()}
        run_attrs[str(i)] = provenance(
            study=study,
            index=i,
            approach=approach,
            members=members,
            member_seeds=[str(s) for s in seeds[mine]],
            seed=seed,
            sample_file=str(sample_paths[j]),
            block_runs=indices,
            device=str(trainer.device),
            torch_version=torch.__version__,
            epochs=trainer.epoch,
            fingerprint=trainer.fingerprint,
            architecture=dict(architecture),
            training=dict(training),
            truth=dict(truth),
            quantiles=list(quantiles),
        )
    write_h5(out, datasets, provenance(study=study, approach=approach, runs=run_attrs))
    Path(checkpoint).unlink(missing_ok=True)
    log.info("wrote %s: %d runs, %d generated events each", out, len(indices), sizes[-1])


def unpack_run(block_file, out, *, index: int) -> None:
    """Run ``index``'s file from its block: the datasets under ``runs/{index}/`` and its attrs."""
    prefix = f"runs/{int(index)}/"
    with h5py.File(block_file, "r") as f:
        if prefix not in f:
            raise KeyError(f"{block_file}: no run {index} (has runs {sorted(f['runs'])})")
        datasets = {}
        f[prefix].visititems(
            lambda name, obj: (
                datasets.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
            )
        )
    write_h5(out, datasets, read_attrs(block_file)["runs"][str(int(index))])


def saturation_table(errors_h5, out_csv, *, n_train: int, fraction: float = 0.1) -> list[dict]:
    """Saturation of every generator curve in the gathered ``quantile_errors.h5``."""
    rows = []
    with h5py.File(errors_h5, "r") as f:
        ks = [int(k) for k in f["K"][()]]
        for approach in f:
            group = f[approach]
            if not isinstance(group, h5py.Group) or "n_generated" not in group:
                continue
            mse = group["mse"][()][group["ok"][()]]  # usable runs: (runs, M, nK)
            rows += saturation_rows(
                approach, n_train, group["n_generated"][()], mse, ks, fraction=fraction
            )
    write_csv(out_csv, rows, SATURATION_COLUMNS)
    return rows

"""rules/forecast.smk: forecast the study's GAN's amplification from a bootstrap ensemble, and
put the forecast beside the truth's measurement (docs/science.md §1.7).

For each of the first ``forecast.runs`` training samples of a study, ``forecast.members`` GANs
of the study's architecture and training are trained, member k on its own bootstrap resample of
the run's sample (:func:`ganplify.core.seeding.resample_rng`) with its own seeds
(:func:`ganplify.core.seeding.member_seeds` with approach "forecast"): a member is the same GAN in
any block and on any rerun. A block of runs trains as one batched model
(``advanced.gan_pack`` GANs per job), as the study's ensembles do. Each member generates
``forecast.n_generated`` events; their fractions in the study's quantile cells are what the
forecast reads.

Files: ``{study}/forecast/blocks/{block}.h5`` — per run ``runs/{i}/quantiles/K{K}`` (members, K),
``runs/{i}/resample`` (members, n_train: the indices of each member's resample),
``runs/{i}/history`` — and ``{study}/forecast.csv`` with its figure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from ..amplification.cells import all_fractions, n_cells
from ..amplification.forecast import combine_forecasts, forecast_amplification
from ..amplification.tables import FORECAST_COLUMNS, forecast_rows
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from ..core.runtime import inject_fault, stop_on_signals
from .common import truth_from_config

log = logging.getLogger("ganplify")

#: The approach name in the members' seed identities.
APPROACH = "forecast"


def resamples(seed: int, study: str, index: int, members: int, n: int) -> np.ndarray:
    """The bootstrap resamples of run ``index``'s members: indices ``(members, n)``, member k's
    from its own stream (it does not depend on how many members there are)."""
    return np.stack(
        [seeding.resample_rng(seed, study, index, k).integers(0, n, n) for k in range(members)]
    )


def train_forecast_block(
    sample_paths: Sequence,
    out,
    *,
    members: int,
    truth: Mapping,
    quantiles: Sequence[int],
    architecture: Mapping,
    training: Mapping,
    n_generated: int,
    seed: int,
    checkpoint,
    checkpoint_every: int = 250,
    threads: int = 1,
    device: str | None = None,
    dtype: str = "float32",
) -> None:
    """Train the bootstrap members of a block of runs as one batched model, let each generate
    ``n_generated`` events and write their cell fractions (module docstring)."""
    inject_fault(out)
    import torch

    from ..gan.models import GanArchitecture, MemberStreams
    from ..gan.training import GanTrainer, TrainingConfig, train

    torch.set_num_threads(int(threads))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    attrs = [read_attrs(path) for path in sample_paths]
    study = attrs[0]["study"]
    indices = [int(a["index"]) for a in attrs]
    xs = [read_dataset(path, "x") for path in sample_paths]
    n, dim = xs[0].shape
    picks = [resamples(seed, study, i, members, len(x)) for i, x in zip(indices, xs, strict=True)]
    data = np.concatenate([x[p] for x, p in zip(xs, picks, strict=True)])
    seeds = [s for i in indices for s in seeding.member_seeds(seed, study, APPROACH, i, members)]
    arch = GanArchitecture.from_config(architecture, dim=dim)
    tcfg = TrainingConfig.from_config(training)
    trainer = GanTrainer(data, arch, tcfg, seeds, device=device, dtype=getattr(torch, dtype))
    log.info(
        "forecast %s, runs %s: %d bootstrap members each, %d GANs on %s, %d threads",
        study,
        indices,
        members,
        len(seeds),
        device,
        threads,
    )
    train(
        trainer,
        checkpoint_path=checkpoint,
        checkpoint_every=int(checkpoint_every),
        should_stop=stop_on_signals(),
        log_every=max(1, tcfg.epochs // 20),
    )
    gen_seeds = [
        s
        for i in indices
        for s in seeding.member_seeds(seed, study, APPROACH, i, members, "generate")
    ]
    events = trainer.generate(int(n_generated), MemberStreams(gen_seeds, device=trainer.device))
    history = np.asarray(trainer.history)  # (epochs, 2, runs · members)
    density = truth_from_config(truth)
    datasets, run_attrs = {}, {}
    for j, i in enumerate(indices):
        mine = range(j * members, (j + 1) * members)
        per_member = [all_fractions(events[g], density, quantiles) for g in mine]
        for k in per_member[0]:
            datasets[f"runs/{i}/quantiles/K{k}"] = np.stack([f[k] for f in per_member])
        datasets[f"runs/{i}/resample"] = picks[j].astype(np.int32)
        datasets[f"runs/{i}/history"] = history[:, :, mine.start : mine.stop]
        run_attrs[str(i)] = {
            "member_seeds": [str(s) for s in seeds[mine.start : mine.stop]],
            "sample_file": str(sample_paths[j]),
        }
    write_h5(
        out,
        datasets,
        provenance(
            study=study,
            seed=seed,
            runs=run_attrs,
            block_runs=indices,
            members=int(members),
            n_train=int(n),
            n_generated=int(n_generated),
            device=str(trainer.device),
            torch_version=torch.__version__,
            epochs=trainer.epoch,
            fingerprint=trainer.fingerprint,
            architecture=dict(architecture),
            training=dict(training),
            truth=dict(truth),
            quantiles=[int(q) for q in quantiles],
        ),
    )
    Path(checkpoint).unlink(missing_ok=True)
    log.info(
        "wrote %s: %d runs x %d members, %d events each", out, len(indices), members, n_generated
    )


def read_members(block_files: Sequence) -> dict[int, dict[int, np.ndarray]]:
    """Every run's member fractions from the block files: ``{run: {K: (members, K)}}``, in run
    order."""
    out: dict[int, dict[int, np.ndarray]] = {}
    for path in block_files:
        with h5py.File(path, "r") as f:
            for i in read_attrs(path)["block_runs"]:
                group = f[f"runs/{int(i)}/quantiles"]
                out[int(i)] = {int(name[1:]): group[name][()] for name in group}
    return dict(sorted(out.items()))


def forecast_study(
    block_files: Sequence,
    out_csv,
    out_png=None,
    *,
    study: str,
    truth: Mapping,
    n_train: int,
    quantiles: Sequence[int],
    n_generated: Sequence[int],
    statistics: Mapping,
    n_resamples: int,
    seed: int,
    errors_h5=None,
    measured_approach: str = "gan",
) -> list[dict]:
    """The study's forecast table (:data:`~ganplify.amplification.tables.FORECAST_COLUMNS`) and
    figure: per K, the runs' forecasts combined, at each M of ``n_generated`` and M = inf, beside
    the measured N_eq of ``measured_approach`` read from the gathered ``errors_h5`` (None: no
    measurement)."""
    density = truth_from_config(truth)
    ks = [n_cells(density, q) for q in quantiles]
    members = read_members(block_files)
    attrs = read_attrs(block_files[0])
    n_events = int(attrs["n_generated"])
    m = np.array([*sorted(float(v) for v in n_generated), np.inf])
    measured = _measured(errors_h5, measured_approach, ks, m) if errors_h5 else None
    conf = float(statistics["confidence_level"])
    rows, combined = [], {}
    for j, k in enumerate(ks):
        per_run = [
            forecast_amplification(
                fr[k],
                n_train,
                m,
                rng=seeding.rng(seed, study, "forecast", "interval", i, k),
                n_member_events=n_events,
                truth_probs=np.full(k, 1.0 / k),
                n_resamples=int(n_resamples),
                confidence_level=conf,
            )
            for i, fr in members.items()
        ]
        combined[k] = combine_forecasts(per_run)
        rows += forecast_rows(
            combined[k],
            k,
            len(per_run),
            None if measured is None else measured[..., j],
            rng_for=lambda mm, k=k: seeding.rng(seed, study, "forecast", "measured", k, int(mm)),
            n_resamples=int(statistics["bootstrap_resamples"]),
        )
        last = rows[-2] if len(m) > 1 else rows[-1]
        log.info(
            "%s K=%d: forecast G %.2f (%.2f-%.2f) at M=%d, measured %.2f: %s",
            study,
            k,
            last["forecast_amplification"],
            last["forecast_amplification_lo"],
            last["forecast_amplification_hi"],
            int(last["n_generated"]),
            last["measured_amplification"],
            last["verdict"] or "not measured",
        )
    write_csv(out_csv, rows, FORECAST_COLUMNS)
    if out_png is not None:
        from ..amplification.figures import forecast_figure

        fig = forecast_figure(rows, title=f"{study}: forecast and measured amplification")
        fig.savefig(out_png, dpi=130)
    return rows


def _measured(errors_h5, approach: str, ks: Sequence[int], m: np.ndarray) -> np.ndarray | None:
    """The approach's per-run MSE ``(runs, len(m), len(ks))`` at the forecast's M (NaN at M
    values it was not scored at), usable runs only; None if the study has no such approach."""
    with h5py.File(errors_h5, "r") as f:
        if approach not in f or "n_generated" not in f[approach]:
            return None
        file_ks = [int(k) for k in f["K"][()]]
        sizes = [float(v) for v in f[approach]["n_generated"][()]]
        mse = f[approach]["mse"][()][f[approach]["ok"][()]]
    out = np.full((mse.shape[0], len(m), len(ks)), np.nan)
    for a, mm in enumerate(m):
        if mm in sizes:
            out[:, a, :] = mse[:, sizes.index(mm), [file_ks.index(k) for k in ks]]
    return out

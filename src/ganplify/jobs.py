"""What each workflow job does, as plain functions of paths and configuration.

The scripts in ``workflow_scripts/`` only unpack Snakemake's ``snakemake`` object and call these, so
every job can be run, tested and debugged without Snakemake.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from . import __version__, seeding
from .gather import (
    EQUIVALENCE_COLUMNS,
    MARGINAL_COLUMNS,
    equivalence_rows,
    marginal_rows,
    reference_mse,
    stack_runs,
)
from .io import (
    marginal_key,
    provenance,
    quantile_key,
    read_attrs,
    read_dataset,
    read_fractions,
    write_h5,
)
from .quantiles import quantile_mse
from .studies import (
    all_fractions,
    all_marginal_fractions,
    fit_model,
    fitted_probabilities,
    n_cells,
    truth_from_config,
)

log = logging.getLogger("ganplify")


def setup_logging(path) -> None:
    """Send this job's log records (and warnings) to ``path``, Snakemake's ``log:`` file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=path,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    # A job that dies should say why in its own log, not only in the scheduler's stderr file
    # (under SLURM that one lives elsewhere): log the uncaught exception, then fail as usual.
    previous = sys.excepthook

    def _log_then_fail(kind, value, tb):
        log.critical("job failed", exc_info=(kind, value, tb))
        logging.shutdown()
        previous(kind, value, tb)

    sys.excepthook = _log_then_fail


def make_sample(out, *, study: str, study_cfg: Mapping, seed: int, index: int) -> np.ndarray:
    """Draw training sample ``index`` of ``study`` and write it with its cell fractions."""
    truth = truth_from_config(study_cfg["truth"])
    n = int(study_cfg["n_train"])
    x = truth.sample(n, seeding.rng(seed, study, "sample", index))
    fractions = all_fractions(x, truth, study_cfg["quantiles"])
    marginals = all_marginal_fractions(x, truth, study_cfg["quantiles"])
    write_h5(
        out,
        {
            "x": x,
            **{quantile_key(k): f for k, f in fractions.items()},
            **{marginal_key(q): f for q, f in marginals.items()},
        },
        provenance(
            seed=seed,
            seed_identity=[study, "sample", index],
            study=study,
            index=index,
            n=n,
            config=dict(study_cfg),
        ),
    )
    log.info("sample %s/%d: %d points written to %s", study, index, n, out)
    return x


def fit_sample(sample_path, out, *, study_cfg: Mapping) -> dict:
    """Fit the training sample in ``sample_path`` and write the fit and its cell probabilities."""
    x = read_dataset(sample_path, "x")
    attrs = read_attrs(sample_path)
    truth = truth_from_config(study_cfg["truth"])
    result = fit_model(truth, x)
    datasets = {
        "values": result.values,
        "errors": result.errors,
        "covariance": result.covariance,
        "truth_values": np.array([truth.parameters[p] for p in result.names]),
    }
    for q in study_cfg["quantiles"]:
        cells, marginals = fitted_probabilities(truth, result, q)
        if not result.valid:  # a failed fit has no trustworthy density: counted, not scored
            cells, marginals = np.full_like(cells, np.nan), np.full_like(marginals, np.nan)
        datasets[quantile_key(n_cells(truth, q))] = cells
        datasets[marginal_key(q)] = marginals
    write_h5(
        out,
        datasets,
        provenance(
            study=attrs.get("study"),
            index=attrs.get("index"),
            sample_file=str(sample_path),
            sample_seed=attrs.get("seed"),
            parameters=list(result.names),
            valid=result.valid,
            accurate=result.accurate,
            fval=result.fval,
            edm=result.edm,
            nfcn=result.nfcn,
            n_attempts=result.n_attempts,
            message=result.message,
            config=dict(study_cfg),
        ),
    )
    level = logging.INFO if result.valid else logging.WARNING
    log.log(level, "fit of %s: valid=%s values=%s", sample_path, result.valid, result.as_dict())
    return result.as_dict()


def gather_study(
    run_files: Mapping[str, Sequence[str]],
    *,
    study: str,
    study_cfg: Mapping,
    stats_cfg: Mapping,
    seed: int,
    out_h5,
    out_csv,
    out_marginal_csv=None,
) -> list[dict]:
    """Gather every approach's per-run fractions into quantile errors and the equivalence table.

    ``run_files[approach]`` lists the per-run files of that approach in run order. Runs whose
    fractions are not finite (failed fits) are excluded from the statistics and counted in the log.
    The reference curves of truth samples (Fig. 2) are computed here too.
    """
    truth = truth_from_config(study_cfg["truth"])
    qs = [int(q) for q in study_cfg["quantiles"]]
    ks = [n_cells(truth, q) for q in qs]
    n_train = int(study_cfg["n_train"])
    datasets: dict[str, np.ndarray] = {"K": np.array(ks)}
    rows: list[dict] = []
    marg_rows: list[dict] = []
    for approach, files in run_files.items():
        # (n_runs, nK) for fixed-size estimates; (n_runs, n_generated, nK) for generators
        mse = np.stack(
            [quantile_mse(stack_runs(read_fractions(f, k) for f in files)) for k in ks], axis=-1
        )
        finite = np.all(np.isfinite(mse), axis=tuple(range(1, mse.ndim)))
        n_bad = int((~finite).sum())
        if n_bad:
            log.warning(
                "%s/%s: %d of %d runs failed and are excluded", study, approach, n_bad, len(files)
            )
        datasets[f"{approach}/mse"] = mse
        datasets[f"{approach}/ok"] = finite
        # per-coordinate errors: (n_runs, [n_generated,] n_q, dim)
        marginal = np.stack(
            [quantile_mse(stack_runs(read_dataset(f, marginal_key(q)) for f in files)) for q in qs],
            axis=-2,
        )
        datasets[f"{approach}/marginal_mse"] = marginal
        marg_rows += marginal_rows(
            approach, marginal[finite, -1] if mse.ndim == 3 else marginal[finite], qs
        )
        if mse.ndim == 3:
            # A generator is scored by its largest generated sample: the saturated value.
            datasets[f"{approach}/n_generated"] = read_dataset(files[0], "n_generated")
            final = mse[:, -1, :]
        else:
            final = mse
        rows += equivalence_rows(
            approach,
            n_train,
            {k: final[finite, j] for j, k in enumerate(ks)},
            rng_for=lambda k, a=approach: seeding.rng(seed, study, "bootstrap", a, k),
            n_resamples=int(stats_cfg["bootstrap_resamples"]),
            confidence_level=float(stats_cfg["confidence_level"]),
        )
    sizes = [int(n) for n in study_cfg["reference_sizes"]]
    datasets["reference/sizes"] = np.array(sizes)
    datasets["reference/mse"] = reference_mse(
        truth.sample,
        lambda x: [f for _, f in sorted(all_fractions(x, truth, qs).items())],
        sizes,
        int(stats_cfg["reference_repeats"]),
        rng_for=lambda n: seeding.rng(seed, study, "reference", n),
    )
    write_h5(
        out_h5,
        datasets,
        provenance(seed=seed, study=study, config=dict(study_cfg), approaches=list(run_files)),
    )
    write_csv(out_csv, rows, EQUIVALENCE_COLUMNS)
    if out_marginal_csv is not None:
        write_csv(out_marginal_csv, marg_rows, MARGINAL_COLUMNS)
    for r in rows:
        log.info("%s", json.dumps(r))
    return rows


def summarize_fits(fit_files: Sequence[str], out_csv) -> dict:
    """Convergence and parameter summary of a study's fits (failed fits are counted, not hidden)."""
    valid = np.array([bool(read_attrs(f)["valid"]) for f in fit_files])
    values = stack_runs(read_dataset(f, "values") for f in fit_files)
    errors = stack_runs(read_dataset(f, "errors") for f in fit_files)
    truth = read_dataset(fit_files[0], "truth_values")
    names = read_attrs(fit_files[0])["parameters"]
    row = {"n_fits": len(fit_files), "n_valid": int(valid.sum()), "n_failed": int((~valid).sum())}
    ok = valid & np.all(np.isfinite(values), axis=1)
    for j, name in enumerate(names):
        v, e = values[ok, j], errors[ok, j]
        pull = (v - truth[j]) / e
        row[f"{name}_truth"] = float(truth[j])
        row[f"{name}_mean"] = float(v.mean()) if v.size else float("nan")
        row[f"{name}_std"] = float(v.std(ddof=1)) if v.size > 1 else float("nan")
        row[f"{name}_mean_error"] = float(e.mean()) if e.size else float("nan")
        row[f"{name}_pull_mean"] = float(pull.mean()) if v.size else float("nan")
        row[f"{name}_pull_std"] = float(pull.std(ddof=1)) if v.size > 1 else float("nan")
    write_csv(out_csv, [row], list(row))
    if row["n_failed"]:
        log.warning("%d of %d fits failed", row["n_failed"], row["n_fits"])
    return row


def write_csv(path, rows: Sequence[Mapping], columns: Sequence[str]) -> None:
    """Write ``rows`` with exactly ``columns``, floats in full precision."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})


def export_config(config: Mapping, out) -> None:
    """Write the validated, merged configuration and run metadata (for the report)."""
    import platform

    import yaml

    meta = {
        "ganplify_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        import snakemake

        meta["snakemake"] = snakemake.__version__
    except ImportError:  # pragma: no cover - the workflow always has it
        pass
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        fh.write("# Configuration used for this run (validated, after merging --configfile).\n")
        yaml.safe_dump({"config": dict(config), "run_metadata": meta}, fh, sort_keys=False)


#: Environment variable naming output files whose jobs must fail (comma-separated), to test
#: keep-going and partial reruns on a real scheduler. Empty or unset in normal use.
FAULT_ENV = "GANPLIFY_FAIL_TARGETS"


class InjectedFault(RuntimeError):
    """Raised on purpose for a job named in ``$GANPLIFY_FAIL_TARGETS``."""


def inject_fault(out) -> None:
    """Fail now if ``out`` is one of the targets named in ``$GANPLIFY_FAIL_TARGETS``."""
    targets = {t.strip() for t in os.environ.get(FAULT_ENV, "").split(",") if t.strip()}
    if any(Path(out) == Path(t) or str(out).endswith(t) for t in targets):
        raise InjectedFault(f"{out}: failing on purpose ({FAULT_ENV}={os.environ[FAULT_ENV]})")


def _stop_flag_on_signals():
    """A callable that turns true once SIGTERM or SIGUSR1 arrives (SLURM preemption/time limit).

    Training checks it after every epoch, saves a checkpoint and exits non-zero, so that the
    requeued or retried job resumes where this one stopped.
    """
    import signal

    received = []

    def handler(signum, frame):
        log.warning("received signal %d: checkpointing and stopping", signum)
        received.append(signum)

    for sig in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, handler)
    return lambda: bool(received)


def generated_fractions(events, truth, quantiles, n_generated) -> dict[str, np.ndarray]:
    """Cell and per-coordinate fractions of the first n events, for every n in ``n_generated``.

    Returns datasets keyed like a per-run file: ``quantiles/K{K}`` of shape ``(len, K)`` and
    ``marginals/q{q}`` of shape ``(len, dim, q)``.
    """
    per_n = [
        (
            all_fractions(events[: int(n)], truth, quantiles),
            all_marginal_fractions(events[: int(n)], truth, quantiles),
        )
        for n in n_generated
    ]
    out = {}
    for k in per_n[0][0]:
        out[quantile_key(k)] = np.stack([cells[k] for cells, _ in per_n])
    for q in per_n[0][1]:
        out[marginal_key(q)] = np.stack([marg[q] for _, marg in per_n])
    return out


def train_generator(
    sample_path,
    out,
    *,
    approach: str,
    study_cfg: Mapping,
    gan_cfg: Mapping,
    seed: int,
    checkpoint,
    threads: int = 1,
    device: str | None = None,
) -> None:
    """Train one GAN (``approach="gan"``) or an ensemble on training sample ``sample_path``.

    An ensemble has ``gan_cfg["ensemble_members"]`` members trained batched on the identical
    sample; its events are the pooled events of its members, interleaved so that every prefix of
    the generated sample holds equal shares of every member. Checkpoints go to ``checkpoint``
    (not a declared output, so Snakemake does not delete it before a rerun) and are removed once
    the output is written.
    """
    inject_fault(out)
    import torch

    from .models import GanArchitecture, MemberStreams
    from .training import GanTrainer, TrainingConfig, train

    torch.set_num_threads(int(threads))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    attrs = read_attrs(sample_path)
    study, index = attrs["study"], int(attrs["index"])
    x = read_dataset(sample_path, "x")
    members = 1 if approach == "gan" else int(gan_cfg["ensemble_members"])
    truth = truth_from_config(study_cfg["truth"])
    arch = GanArchitecture.from_config(gan_cfg["architecture"], dim=x.shape[1])
    tcfg = TrainingConfig.from_config(gan_cfg["training"])
    seeds = [seeding.torch_seed(seed, study, approach, index, "member", k) for k in range(members)]
    trainer = GanTrainer(np.repeat(x[None], members, axis=0), arch, tcfg, seeds, device=device)
    log.info(
        "%s %s/%d: %d member(s) on %s, %d threads", approach, study, index, members, device, threads
    )
    train(
        trainer,
        checkpoint_path=checkpoint,
        checkpoint_every=int(gan_cfg["checkpoint_every"]),
        should_stop=_stop_flag_on_signals(),
        log_every=max(1, tcfg.epochs // 20),
    )

    n_generated = np.array(sorted(int(n) for n in gan_cfg["n_generated"]))
    per_member = -(-int(n_generated[-1]) // members)  # ceil
    gen_streams = MemberStreams(
        [
            seeding.torch_seed(seed, study, approach, index, "member", k, "generate")
            for k in range(members)
        ],
        device=trainer.device,
    )
    events = trainer.generate(per_member, gen_streams)  # (members, per_member, dim)
    pooled = events.transpose(1, 0, 2).reshape(-1, x.shape[1])[: n_generated[-1]]
    fractions = generated_fractions(pooled, truth, study_cfg["quantiles"], n_generated)
    datasets = {
        "generated": pooled.astype(np.float32),
        "n_generated": n_generated,
        "history": np.asarray(trainer.history),
        **fractions,
        **{
            f"generator/{name}": p.detach().cpu().numpy()
            for name, p in trainer.G.state_dict().items()
        },
    }
    write_h5(
        out,
        datasets,
        provenance(
            study=study,
            index=index,
            approach=approach,
            members=members,
            member_seeds=[str(s) for s in seeds],
            seed=seed,
            sample_file=str(sample_path),
            device=str(trainer.device),
            torch_version=torch.__version__,
            epochs=trainer.epoch,
            fingerprint=trainer.fingerprint,
            gan=dict(gan_cfg),
            config=dict(study_cfg),
        ),
    )
    Path(checkpoint).unlink(missing_ok=True)
    log.info("wrote %s: %d generated events", out, len(pooled))


SATURATION_COLUMNS = [
    "approach",
    "n_train",
    "K",
    "n_runs",
    "bias_mean",
    "bias_std",
    "noise_mean",
    "n_sat_mean_curve",
    "n_sat_median",
    "n_sat_lo",
    "n_sat_hi",
    "n_equiv_asymptotic",
    "amplification_asymptotic",
]


def saturation_table(errors_h5, out_csv, *, n_train: int, fraction: float = 0.1) -> list[dict]:
    """Saturation of every generator curve in ``quantile_errors.h5`` (see :mod:`.saturation`).

    Per run, ``mse(M) = a + b / M`` is fitted; the saturation point is ``M_sat = b / (f a)``.
    Reported: the mean and spread of a, the median and 16–84 % range of M_sat over runs, M_sat
    of the mean curve, and the equivalent events and amplification of the mean asymptote a.
    """
    import h5py

    from .equivalence import equivalent_events
    from .saturation import fit_bias_and_noise, saturation_point

    rows = []
    with h5py.File(errors_h5, "r") as f:
        ks = [int(k) for k in f["K"][()]]
        for approach in f:
            if not isinstance(f[approach], h5py.Group) or "n_generated" not in f[approach]:
                continue
            n_gen = f[approach]["n_generated"][()]
            mse = f[approach]["mse"][()][f[approach]["ok"][()]]  # (runs, M, nK)
            for j, k in enumerate(ks):
                curves = mse[:, :, j]
                a, b = fit_bias_and_noise(n_gen, curves)
                a_mean_curve, b_mean_curve = fit_bias_and_noise(n_gen, curves.mean(0))
                n_sat = saturation_point(a, b, fraction)
                n_eq = float(equivalent_events(a.mean(), k))
                rows.append(
                    {
                        "approach": approach,
                        "n_train": int(n_train),
                        "K": k,
                        "n_runs": int(curves.shape[0]),
                        "bias_mean": float(a.mean()),
                        "bias_std": float(a.std(ddof=1)) if a.size > 1 else float("nan"),
                        "noise_mean": float(b.mean()),
                        "n_sat_mean_curve": float(
                            saturation_point(a_mean_curve, b_mean_curve, fraction)
                        ),
                        "n_sat_median": float(np.median(n_sat)),
                        "n_sat_lo": float(np.quantile(n_sat, 0.16)),
                        "n_sat_hi": float(np.quantile(n_sat, 0.84)),
                        "n_equiv_asymptotic": n_eq,
                        "amplification_asymptotic": n_eq / n_train,
                    }
                )
    write_csv(out_csv, rows, SATURATION_COLUMNS)
    return rows

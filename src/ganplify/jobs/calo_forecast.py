"""rules/calo_forecast.smk: forecast a shower generator's amplification from an ensemble of
bootstrap members (docs/science.md §1.7), per calorimeter study of ``calorimeter.forecast.run``.

The training sample is the study's truth sample (its first ``n_train`` showers for a learned
ensemble). The members (``calorimeter.forecast.ensembles.{calo}``) are either

- ``kind: file`` — a user's generator: one entry of shower files per member, each member trained by
  the user on a bootstrap resample of the training sample. There is no truth beyond the training
  sample: the cells are each observable's quantiles of the training sample, and the forecast is all
  there is (no measured G, no mis-specification term) — the table says so in its ``truth`` column;
- ``kind: trained`` — the study's learned generator (:mod:`ganplify.calo.learned`, the settings of
  the study's trained generator), member k on its own bootstrap resample of the first ``n_train``
  truth showers with its own seeds, generating ``n_showers`` showers of the study's spectrum. Where
  the study's learned generator is measured against a reference truth sample at the same
  ``n_train`` (``calorimeter.amplification``), the cells are the reference's (as there), the
  mis-specification term is estimated against the reference's cell probabilities, and the table puts
  the measured N_eq(M) of that generator (``amplification/{n_train}.h5``) beside the forecast.

Files: ``{calo}/forecast/members/{m}.h5`` (observables and incident energies of member m's showers;
for a learned member its resample too), ``{calo}/forecast.csv`` (:data:`COLUMNS`) and its figure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..amplification import observables as ob
from ..amplification.forecast import forecast_amplification
from ..amplification.tables import verdict
from ..calo import formats
from ..calo.detector import detector_from_config, spectrum_from_config
from ..calo.features import feature_set
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from ..core.runtime import inject_fault, stop_on_signals
from .calo_showers import read_features
from .common import torch_device

log = logging.getLogger("ganplify")

COLUMNS = [
    "study", "n_train", "observable", "cells", "members", "n_generated",
    "forecast_n_equiv", "forecast_n_equiv_lo", "forecast_n_equiv_hi",
    "forecast_amplification", "forecast_amplification_lo", "forecast_amplification_hi",
    "measured_n_equiv", "measured_n_equiv_lo", "measured_n_equiv_hi", "measured_amplification",
    "misspecification", "corrected_amplification", "verdict", "truth",
]  # fmt: skip
#: The ``truth`` column of a forecast with nothing to check it against.
NO_TRUTH = "none beyond the training sample: forecast only, no measured G, no mis-specification"


def file_member_observables(
    paths: Sequence[str], fmt: str | None, out, *, detector, energy_range_gev=None, chunk=1000
) -> None:
    """Observables of a user's member files (each checked, value by value, as a sample's)."""
    inject_fault(out)
    geometry = detector_from_config(detector)
    features = feature_set(geometry)
    fmt = None if fmt in (None, "auto") else fmt
    parts, energies = [], []
    for path in paths:
        source = formats.inspect(path, geometry, fmt, energy_range_gev)
        for j, (e, s) in enumerate(formats.iter_showers(source, chunk, 0, source.n_showers)):
            formats.check_values(source, e, s, j * chunk)
            parts.append(features.compute(s).astype(np.float32))
            energies.append(e)
    write_h5(
        out,
        {"observables": np.concatenate(parts), "incident_energy": np.concatenate(energies)},
        provenance(kind="file", paths=[str(p) for p in paths], observables=features.names),
    )


def trained_member_observables(
    segments: Sequence[Sequence],
    out,
    *,
    calo: str,
    member: int,
    n_showers: int,
    training: Mapping,
    detector,
    incident_energy,
    seed: int,
    checkpoint,
    checkpoint_every: int = 25,
    threads: int = 1,
) -> None:
    """Learned member ``member``: the VAE on its bootstrap resample of the training showers of
    ``segments`` (read into memory), then the observables of ``n_showers`` of its showers."""
    from pathlib import Path

    from ..calo import learned
    from .calo_amplification import generated_observables

    inject_fault(out)
    device = torch_device(threads)
    geometry = detector_from_config(detector)
    data = learned.ShowerSlices([tuple(s) for s in segments], 1000)
    e_train, showers = map(np.concatenate, zip(*data, strict=True))
    data.close()
    n = len(e_train)
    identity = ["calorimeter", calo, "forecast", n, "member", int(member)]
    index = seeding.rng(seed, *identity, "resample").integers(0, n, n)
    cfg = learned.VAEConfig.from_config(training)
    resample = learned.ResampledShowers(e_train, showers, index, cfg.batch_size)
    trainer = learned.VAETrainer(
        resample, cfg, seed=seeding.torch_seed(seed, *identity, "train"), device=device
    )
    log.info("%s forecast member %d: VAE %s on a resample of %d showers", calo, member, cfg, n)
    learned.train(
        trainer,
        checkpoint_path=checkpoint,
        checkpoint_every=int(checkpoint_every),
        should_stop=stop_on_signals(),
    )
    obs, energies = generated_observables(
        trainer.generator(),
        geometry,
        spectrum_from_config(incident_energy, geometry),
        int(n_showers),
        seeding.rng(seed, *identity, "generate"),
    )
    write_h5(
        out,
        {
            "observables": obs.astype(np.float32),
            "incident_energy": energies,
            "resample": index.astype(np.int32),
        },
        provenance(
            kind="trained",
            seed=seed,
            seed_identity=identity,
            n_train=n,
            training=dict(training),
            observables=feature_set(geometry).names,
        ),
    )
    Path(checkpoint).unlink(missing_ok=True)


def _member_fractions(cells: ob.ReferenceCells, member_files, names):
    """Members' fractions in every kept observable's cells, concatenated (B, Σ K_o), and the
    number of showers behind each."""
    fractions, counts = [], []
    for path in member_files:
        x = read_dataset(path, "observables").astype(np.float64)
        idx = ob.cell_indices(cells, x, names)
        fractions.append(
            np.concatenate(
                [
                    np.bincount(idx[:, o], minlength=len(p)) / len(x)
                    for o, p in enumerate(cells.probs)
                ]
            )
        )
        counts.append(len(x))
    return np.stack(fractions), np.array(counts)


def calo_forecast(
    training_features,
    member_files: Sequence,
    out_csv,
    out_png=None,
    *,
    calo: str,
    n_train: int | None,
    quantiles: int,
    n_generated: Sequence[int],
    n_resamples: int,
    confidence_level: float,
    seed: int,
    reference=None,
    measured_run=None,
):
    """The forecast table (:data:`COLUMNS`: all observables together, then each alone) and figure.

    Without ``reference``: cells at the training sample's ``quantiles``, no truth. With it (a
    learned ensemble whose generator is measured): the reference's cells and probabilities, and
    the measured curve of ``measured_run`` (its ``generated/curve``) at the forecast's M.
    """
    obs_train, _ = read_features(training_features)
    n = len(obs_train) if n_train is None else int(n_train)
    obs_train = obs_train[:n]
    names = list(read_attrs(training_features)["observables"])
    truth_label, measured = NO_TRUTH, None
    if reference is None:
        cells = ob.reference_cells(obs_train, names, quantiles)
        m = np.array(sorted(float(v) for v in n_generated))
    else:
        cells = ob.reference_cells(read_dataset(reference, "observables"), names, quantiles)
        truth_label = f"reference: {cells.n_reference} fresh truth showers"
        if measured_run is not None:
            measured = read_dataset(measured_run, "generated/curve")
            m = measured[:, 0].astype(float)
        else:
            m = np.array(sorted(float(v) for v in n_generated))
    m = np.append(m, np.inf)
    fractions, counts = _member_fractions(cells, member_files, names)
    groups = np.concatenate([[o] * len(p) for o, p in enumerate(cells.probs)])
    truth = None if reference is None else np.concatenate(cells.probs)
    ref_noise = 0.0 if reference is None else float(cells.noise.sum()) / cells.n_reference

    def forecast(cols, label):
        fc = forecast_amplification(
            fractions[:, cols],
            n,
            m,
            rng=seeding.rng(seed, "calorimeter", calo, "forecast", "interval", label),
            n_member_events=counts,
            groups=groups[cols],
            truth_probs=None if truth is None else truth[cols],
            n_resamples=int(n_resamples),
            confidence_level=float(confidence_level),
        )
        # the reference's own noise, A/N_ref per observable, is no bias of the generator
        noise = ref_noise if label == "all" else float(cells.noise[int(label)]) / cells.n_reference
        return (
            replace(fc, misspecification=fc.misspecification - noise) if truth is not None else fc
        )

    rows = []
    everything = forecast(np.ones(len(groups), bool), "all")
    rows += _rows(calo, "all", everything, len(groups), measured, truth_label)
    for o, name in enumerate(cells.names):
        fc = forecast(groups == o, str(o))
        rows += _rows(calo, name, fc, int((groups == o).sum()), None, truth_label)
    write_csv(out_csv, rows, COLUMNS)
    top = everything
    log.info(
        "%s: %d members, n_train %d; forecast G %.2f (%.2f-%.2f) at M = %d, %.2f for M -> inf; "
        "truth: %s",
        calo,
        top.n_members,
        n,
        top.amplification[-2],
        top.amplification_lo[-2],
        top.amplification_hi[-2],
        int(m[-2]),
        top.amplification[-1],
        truth_label,
    )
    if out_png is not None:
        from ..amplification.figures import forecast_figure

        fig = forecast_figure(
            [r for r in rows if r["observable"] == "all"],
            title=f"{calo}, truth: {truth_label.split(':')[0]}",
            panel_key="observable",
            measured_label="measured (reference truth)",
        )
        fig.savefig(out_png, dpi=130)
    return rows


def _rows(calo, observable, fc, n_cells, measured, truth_label) -> list[dict]:
    """One row per M of one forecast (all observables, or one)."""
    corrected = fc.n_equiv_with_misspecification() / fc.n_train
    rows = []
    for j, m in enumerate(fc.n_generated):
        meas = np.full(3, np.nan)
        if measured is not None and j < len(measured):
            meas = measured[j, 3:6]
        rows.append(
            {
                "study": calo,
                "n_train": fc.n_train,
                "observable": observable,
                "cells": n_cells,
                "members": fc.n_members,
                "n_generated": float(m),
                "forecast_n_equiv": float(fc.n_equiv[j]),
                "forecast_n_equiv_lo": float(fc.n_equiv_lo[j]),
                "forecast_n_equiv_hi": float(fc.n_equiv_hi[j]),
                "forecast_amplification": float(fc.amplification[j]),
                "forecast_amplification_lo": float(fc.amplification_lo[j]),
                "forecast_amplification_hi": float(fc.amplification_hi[j]),
                "measured_n_equiv": float(meas[0]),
                "measured_n_equiv_lo": float(meas[1]),
                "measured_n_equiv_hi": float(meas[2]),
                "measured_amplification": float(meas[0]) / fc.n_train,
                "misspecification": float(fc.misspecification),
                "corrected_amplification": float(corrected[j]),
                "verdict": verdict(float(meas[0]), fc.n_equiv_lo[j], fc.n_equiv_hi[j]),
                "truth": truth_label,
            }
        )
    return rows

"""rules/calo_amplification.smk: does a learned shower generator amplify?

For a calorimeter study (``calorimeter.amplification.run``) and each training size
(``calorimeter.amplification.n_train``): the learned generator trained on the first n_train truth
showers (rule train_shower_generator) generates ``n_generated`` showers; their observables are
compared with a large independent truth sample's (the *reference*, ``n_reference`` showers of the
simulator, rule calo_reference), unweighted and DCTR-weighted (the study's HL reweighter fitted on
the same n_train truth showers — it sees no more truth than the generator — against a second,
independent draw of ``n_generated`` showers of the generator, and stored: the scored showers are
weighted by the stored function, as new events), by
:mod:`ganplify.amplification.observables`: N_eq truth showers and G = N_eq / n_train against the
number generated. The n_train training showers themselves are the control: G = 1.

Files: ``{calo}/amplification/reference.h5`` (the reference's observables),
``{calo}/amplification/{n_train}.h5`` (per sample: N_eq against M),
``{calo}/amplification/{n_train}_reweighter.h5`` (the stored reweighter), and
``calorimeter/calo_amplification.csv`` (all of them).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..amplification import observables as ob
from ..calo.detector import detector_from_config, spectrum_from_config
from ..calo.features import feature_set
from ..calo.simulator import TRUTH, simulate_sample
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_h5
from ..core.runtime import inject_fault
from .calo_generator import load_generator
from .calo_showers import read_features
from .common import reweight_job

log = logging.getLogger("ganplify")

#: The samples of an amplification run: the training showers (the control), the generator's
#: events, and the same events with the HL classifier's DCTR weights.
SAMPLES = ("training", "generated", "dctr_hl")
COLUMNS = [
    "study", "n_train", "sample", "n_events", "mse", "mse_sd", "n_eq", "n_eq_lo", "n_eq_hi",
    "amplification", "amplification_lo", "amplification_hi",
]  # fmt: skip


def reference_observables(
    out, *, calo: str, n: int, detector, incident_energy, seed: int, batch: int = 1000
) -> None:
    """The observables of ``n`` fresh truth showers (the simulator's, their own random stream),
    simulated and reduced batch by batch."""
    inject_fault(out)
    geometry = detector_from_config(detector)
    features = feature_set(geometry)
    identity = ["calorimeter", calo, "amplification", "reference"]
    rng = seeding.rng(seed, *identity)
    parts, energies = [], []
    spectrum = spectrum_from_config(incident_energy, geometry)
    for e, showers in simulate_sample(
        int(n), rng, spectrum, model=TRUTH, calorimeter=geometry, batch=batch
    ):
        parts.append(features.compute(showers).astype(np.float32))
        energies.append(e)
    write_h5(
        out,
        {"observables": np.concatenate(parts), "incident_energy": np.concatenate(energies)},
        provenance(seed=seed, seed_identity=identity, observables=features.names, n=int(n)),
    )


def generated_observables(generator, geometry, spectrum, n: int, rng, batch: int = 2000):
    """Observables and incident energies of ``n`` showers of ``generator``, batch by batch."""
    features = feature_set(geometry)
    parts, energies = [], []
    for lo in range(0, int(n), batch):
        e = spectrum.sample(min(batch, int(n) - lo), rng)
        parts.append(features.compute(generator.generate(e, rng, geometry.shape)))
        energies.append(e)
    return np.concatenate(parts).astype(np.float64), np.concatenate(energies)


def event_counts(n: int, smallest: int = 100) -> list[int]:
    """The numbers of events the curves are evaluated at: 1-3-10 steps up to ``n``, and ``n``."""
    out, m = [], smallest
    while m < n:
        out.append(m)
        m = m * 3 if str(m)[0] == "1" else m * 10 // 3
    return out + [int(n)]


def amplification_run(
    model,
    truth_features,
    reference,
    out,
    model_out,
    *,
    calo: str,
    n_train: int,
    n_generated: int,
    detector,
    incident_energy,
    quantiles: int,
    n_bootstrap: int,
    reweighter: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """One training size: the generator's showers, their DCTR weights, and N_eq against M for
    the training showers, the generated and the weighted ones. The reweighter is fitted on the
    training showers against one draw of the generator and weights another (the scored one)."""
    inject_fault(out)
    geometry = detector_from_config(detector)
    features = feature_set(geometry)
    spectrum = spectrum_from_config(incident_energy, geometry)
    names = list(read_attrs(reference)["observables"])
    cells = ob.reference_cells(read_dataset(reference, "observables"), names, quantiles)
    identity = ["calorimeter", calo, "amplification", int(n_train)]
    obs_truth, e_truth = read_features(truth_features, "fit")
    obs_truth, e_truth = obs_truth[: int(n_train)], e_truth[: int(n_train)]
    generator = load_generator(model)
    obs_gen, e_gen = generated_observables(
        generator, geometry, spectrum, n_generated, seeding.rng(seed, *identity, "gen")
    )
    obs_fit, e_fit = generated_observables(
        generator, geometry, spectrum, n_generated, seeding.rng(seed, *identity, "gen", "fit")
    )
    with tempfile.TemporaryDirectory() as tmp:
        _, fit_diag, diag = reweight_job(
            features.hl(obs_truth, e_truth),
            features.hl(obs_fit, e_fit),
            features.hl(obs_gen, e_gen),
            Path(tmp) / "weights.h5",
            model_out,
            spec=reweighter,
            seed=seed,
            identity=(*identity, "hl"),
            threads=threads,
            features=features.hl_names,
            events={
                "fit_truth": ("truth", np.arange(int(n_train))),
                "fit_generated": ("generated_fit", np.arange(len(obs_fit))),
                "evaluation_generated": ("generated", np.arange(len(obs_gen))),
            },
        )
        w = read_dataset(Path(tmp) / "weights.h5", "evaluation/weights")
    events = {"training": (obs_truth, None), "generated": (obs_gen, None), "dctr_hl": (obs_gen, w)}
    datasets = {"weights": w}
    for sample, (x, sw) in events.items():
        idx = ob.cell_indices(cells, x, names)
        rng = seeding.rng(seed, *identity, "bootstrap", sample)
        rows = []
        for m in event_counts(len(x)):
            amp = ob.sample_amplification(
                cells, idx[:m], None if sw is None else sw[:m], rng=rng, n_bootstrap=n_bootstrap
            )
            rows.append([m, amp.mse, amp.mse_sd, amp.n_eq, amp.n_eq_lo, amp.n_eq_hi])
        datasets[f"{sample}/curve"] = np.array(rows)
        datasets[f"{sample}/n_eq_per_observable"] = amp.n_eq_per_observable
        g = amp.n_eq / n_train
        log.info("%s n_train %d %s: N_eq %.0f (%.0f-%.0f) of %d events, G %.2f", calo, n_train,
                 sample, amp.n_eq, amp.n_eq_lo, amp.n_eq_hi, len(x), g)  # fmt: skip
    write_h5(
        out,
        datasets,
        provenance(
            seed=seed,
            n_train=int(n_train),
            n_generated=int(n_generated),
            quantiles=int(quantiles),
            observables=list(cells.names),
            n_reference=cells.n_reference,
            curve_columns=["n_events", "mse", "mse_sd", "n_eq", "n_eq_lo", "n_eq_hi"],
            weight_diagnostics=diag.as_dict(),
            fit_weight_diagnostics=fit_diag.as_dict(),
            reweighter_file=str(model_out),
        ),
    )


def amplification_table(run_files: Sequence, studies: Sequence[str]) -> pd.DataFrame:
    """All runs' curves in one table (:data:`COLUMNS`), a row per study, size, sample and M."""
    rows = []
    for path, study in zip(run_files, studies, strict=True):
        n_train = int(read_attrs(path)["n_train"])
        for sample in SAMPLES:
            for m, mse, sd, n_eq, lo, hi in read_dataset(path, f"{sample}/curve"):
                rows.append([study, n_train, sample, int(m), mse, sd, n_eq, lo, hi,
                             n_eq / n_train, lo / n_train, hi / n_train])  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def gather_amplification(run_files: Sequence, studies: Sequence[str], out_csv, out_png) -> None:
    """calo_amplification.csv and its figure (a row of panels per study)."""
    from ..amplification.figures import shower_amplification_figure

    table = amplification_table(run_files, studies)
    table.to_csv(out_csv, index=False)
    fig = None
    for study in dict.fromkeys(studies):
        # one figure per run of the workflow; several studies: the first's (the csv has all)
        fig = shower_amplification_figure(table[table.study == study].to_dict("records"), study)
        break
    fig.savefig(out_png, dpi=130)

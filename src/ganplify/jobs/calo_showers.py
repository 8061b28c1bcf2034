"""rules/calo_showers.smk: a calorimeter study's showers (simulated or from files) and their
observables, chunk by chunk.

A *calorimeter study* (``calorimeter.studies.{calo}``) is one geometry (``detector``), one
incident-energy spectrum and two samples, "truth" and "generated"; :func:`study_settings` merges
the study's keys over the shared ``calorimeter`` ones. Each of the two has a *fitting* part — what
the reweighters (and a learned generator) are fitted on — and an *evaluation* part that nothing
is ever fitted on, on which every reported number is measured (docs/science.md §2.8). The
evaluation part is a sample of its own ("truth_eval", "generated_eval": by default a fresh
simulation or generation like the fitting one, or a second file) or, for a sample from one file,
a random share of its showers (``calorimeter.evaluation_fraction``, reproducible from the seed):
:func:`evaluation_split`. Every gathered features file says which of its showers are evaluation
showers (dataset ``evaluation``). A *sample* is a list of segments:
slices of shower files, each read and turned into observables by one job. A simulated sample's
segments are its chunk files (``results/calorimeter/{calo}/{sample}/showers/{k}.h5``, made by one
job each, getting_high format for the Cartesian ECAL, CaloChallenge format for the challenge's
geometries); a sample from files (``kind: file``) is cut into segments of ``chunk`` showers.

Files: ``{calo}/{sample}/features/{k}.h5`` (observables and incident energies of segment k) and
``{calo}/{sample}/features.h5`` (all of them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..calo import formats
from ..calo.detector import detector_from_config, spectrum_from_config
from ..calo.features import feature_set
from ..calo.simulator import FASTSIM, TRUTH, ShowerModel, simulate_sample
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_h5
from ..core.runtime import inject_fault

log = logging.getLogger("ganplify")

#: Sample kinds made by the parametrised simulator, with the model each starts from.
SIMULATED = {"simulator": TRUTH, "fastsim": FASTSIM}
#: Sample kinds read from shower files.
FROM_FILES = ("file",)
#: Sample kinds made by a generator trained on the study's truth (jobs.calo_generator).
LEARNED = ("trained",)


def study_settings(calorimeter: Mapping, name: str) -> dict:
    """Calorimeter study ``name``: its own keys over the shared ``calorimeter`` section's."""
    shared = {k: v for k, v in calorimeter.items() if k not in ("studies", "run")}
    return shared | dict(calorimeter["studies"][name])


#: The physical samples a study can have: the fitting samples, then the evaluation samples of
#: their own (a study whose evaluation part is split off a file has no such sample).
SAMPLES = ("truth", "generated", "truth_eval", "generated_eval")
#: The config key of each sample's (fitting) section.
ROLE_KEY = {"truth": "truth", "generated": "generator"}


def evaluation_config(settings: Mapping, role: str) -> Mapping:
    """The evaluation sample of ``role`` ("truth" or "generated"): the study's
    ``evaluation.{truth,generator}`` section; by default a fresh sample like the fitting one for a
    simulated or learned sample (its own random stream), and ``{kind: split}`` for one from files.
    """
    key = ROLE_KEY[role]
    given = settings.get("evaluation", {}).get(key)
    if given is not None:
        return given
    fitting = settings[key]
    return {"kind": "split"} if fitting["kind"] in FROM_FILES else dict(fitting)


def evaluation_split(settings: Mapping, sample: str) -> float | None:
    """The share of ``sample``'s showers held out for evaluation (a fitting sample whose
    evaluation part is split off it), or None."""
    if sample not in ROLE_KEY:
        return None
    cfg = evaluation_config(settings, sample)
    if cfg["kind"] != "split":
        return None
    return float(cfg.get("fraction", settings["evaluation_fraction"]))


def sample_config(settings: Mapping, sample: str) -> Mapping | None:
    """The config section of a study's physical sample: ``truth``, ``generator`` (sample
    "generated"), or the evaluation sample of either ("truth_eval", "generated_eval"; None when
    it is split off the fitting sample)."""
    if sample in ROLE_KEY:
        return settings[ROLE_KEY[sample]]
    if sample not in SAMPLES:
        raise ValueError(f"unknown sample {sample!r}: one of {SAMPLES}")
    cfg = evaluation_config(settings, sample.removesuffix("_eval"))
    return None if cfg["kind"] == "split" else cfg


def study_samples(settings: Mapping) -> list[str]:
    """The physical samples a study has: truth, generated, and their evaluation samples where
    those are samples of their own."""
    return [s for s in SAMPLES if sample_config(settings, s) is not None]


def evaluation_sample(settings: Mapping, role: str) -> str:
    """The physical sample that holds ``role``'s evaluation showers."""
    return role if evaluation_split(settings, role) is not None else f"{role}_eval"


def study_geometry(settings: Mapping):
    """The geometry of a study's settings (:func:`study_settings`)."""
    return detector_from_config(settings["detector"])


def study_spectrum(settings: Mapping):
    return spectrum_from_config(settings.get("incident_energy"), study_geometry(settings))


def shower_model(sample_cfg: Mapping) -> ShowerModel:
    """The parametrisation of a simulated sample: its kind's model with the config's overrides."""
    base = SIMULATED[sample_cfg["kind"]]
    return ShowerModel.from_config({**asdict(base), **sample_cfg.get("model", {})})


def file_format(geometry) -> str:
    """The format a simulated chunk of ``geometry`` is written in."""
    return formats.GETTING_HIGH if geometry.kind == "cartesian" else formats.CALOCHALLENGE


@dataclass(frozen=True)
class Segment:
    """Showers ``start`` … ``stop`` − 1 of ``path``."""

    path: str
    format: str | None
    start: int
    stop: int

    @property
    def n(self) -> int:
        return self.stop - self.start


def plan_segments(calo: str, sample: str, settings: Mapping) -> list[Segment]:
    """The segments of a study's sample, one job each.

    Simulated or generated by the trained generator: ``ceil(n_showers / chunk)`` chunk files to
    be made (``showers/`` and ``learned/``). From files: every file is
    checked now against the study's geometry and energy range (structure and incident energies)
    — a bad file stops the study here, naming the file and the dataset — and cut into segments
    of ``chunk`` showers.
    """
    sample_cfg = sample_config(settings, sample)
    geometry = study_geometry(settings)
    chunk = int(settings["chunk"])
    if sample_cfg["kind"] in SIMULATED or sample_cfg["kind"] in LEARNED:
        if sample_cfg["kind"] in LEARNED and not sample.startswith("generated"):
            raise ValueError(
                f"calorimeter.studies.{calo}: only the generator can be of kind 'trained' "
                f"(the {sample} sample is)"
            )
        n = int(sample_cfg["n_showers"])
        fmt = file_format(geometry)
        folder = "learned" if sample_cfg["kind"] in LEARNED else "showers"
        return [
            Segment(f"results/calorimeter/{calo}/{sample}/{folder}/{k}.h5", fmt, 0, m)
            for k, m in enumerate(_chunk_sizes(n, chunk))
        ]
    segments = []
    fmt = None if sample_cfg.get("format", "auto") == "auto" else sample_cfg["format"]
    e_range = study_spectrum(settings).range_gev
    for path in sample_cfg["paths"]:
        source = formats.inspect(path, geometry, fmt, e_range)
        for lo in range(0, source.n_showers, chunk):
            segments.append(
                Segment(str(path), source.format, lo, min(lo + chunk, source.n_showers))
            )
    return segments


def _chunk_sizes(n: int, chunk: int) -> list[int]:
    return [min(chunk, n - lo) for lo in range(0, n, chunk)]


def simulate_showers(
    out,
    *,
    calo: str,
    sample: str,
    index: int,
    n: int,
    sample_cfg: Mapping,
    detector,
    incident_energy,
    seed: int,
    batch: int = 250,
) -> None:
    """Simulate chunk ``index`` of a study's sample (its own random stream) into a file."""
    inject_fault(out)
    geometry = detector_from_config(detector)
    spectrum = spectrum_from_config(incident_energy, geometry)
    model = shower_model(sample_cfg)
    identity = ["calorimeter", calo, sample, "chunk", index]
    rng = seeding.rng(seed, *identity)
    attrs = provenance(
        seed=seed,
        seed_identity=identity,
        sample=sample,
        kind=sample_cfg["kind"],
        model=asdict(model),
        detector=detector,
        geometry=geometry.name,
        incident_energy=asdict(spectrum),
    )
    fmt = file_format(geometry)
    with formats.ShowerWriter(out, fmt, calorimeter=geometry, attrs=attrs) as w:
        for energies, showers in simulate_sample(
            int(n), rng, spectrum, model=model, calorimeter=geometry, batch=batch
        ):
            w.append(energies, showers)
    log.info("%s/%s chunk %d: %d showers (%s) written to %s", calo, sample, index, n, model, out)


def segment_observables(
    segment: Segment, out, *, detector, energy_range_gev=None, read_chunk: int = 1000
) -> None:
    """Observables of the showers of one segment, checked value by value on the way."""
    geometry = detector_from_config(detector)
    features = feature_set(geometry)
    source = formats.inspect(segment.path, geometry, segment.format, energy_range_gev)
    # a chunk of dataset 3's showers is 40,500 voxels each: keep a read at ~200 MB in float64
    read_chunk = max(1, min(int(read_chunk), 5_000_000 // geometry.n_voxels))
    parts, energies = [], []
    for j, (e, s) in enumerate(
        formats.iter_showers(source, read_chunk, segment.start, segment.stop)
    ):
        formats.check_values(source, e, s, segment.start + j * read_chunk)
        parts.append(features.compute(s).astype(np.float32))
        energies.append(e)
    write_h5(
        out,
        {"observables": np.concatenate(parts), "incident_energy": np.concatenate(energies)},
        provenance(
            source=segment.path,
            format=source.format,
            start=segment.start,
            stop=segment.stop,
            geometry=geometry.name,
            observables=features.names,
        ),
    )


def gather_features(
    chunk_files: Sequence[str],
    out,
    *,
    sample: str,
    evaluation: str | float,
    seed: int,
    identity: Sequence = (),
) -> None:
    """The observables of all segments of a sample in one file, in segment order, and which of
    its showers are evaluation showers (dataset ``evaluation``): ``evaluation`` "all" (an
    evaluation sample), "none" (a fitting sample with an evaluation sample of its own), or the
    share split off at random (:func:`ganplify.core.events.evaluation_mask`, its stream from
    ``seed`` and ``identity``)."""
    from ..core.events import evaluation_mask

    obs = np.concatenate([read_dataset(f, "observables") for f in chunk_files])
    energy = np.concatenate([read_dataset(f, "incident_energy") for f in chunk_files])
    if evaluation in ("all", "none"):
        mask = np.full(len(obs), evaluation == "all")
    else:
        mask = evaluation_mask(len(obs), float(evaluation), seeding.rng(seed, *identity))
    first = read_attrs(chunk_files[0])
    write_h5(
        out,
        {"observables": obs, "incident_energy": energy, "evaluation": mask},
        provenance(
            observables=first["observables"],
            geometry=first.get("geometry", ""),
            segments=[str(f) for f in chunk_files],
            sample=sample,
            evaluation_split=evaluation,
        ),
    )


def read_features(path, part: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(observables float64, incident energies GeV) of a features file: every shower, or only
    those of ``part`` "fit" or "evaluation" (:func:`part_index`)."""
    obs = read_dataset(path, "observables").astype(np.float64)
    energies = read_dataset(path, "incident_energy").astype(np.float64)
    if part is None:
        return obs, energies
    rows = part_index(path, part)
    return obs[rows], energies[rows]


def part_index(path, part: str) -> np.ndarray:
    """The rows of a features file's showers of ``part``: "fit" (what fitting steps may use) or
    "evaluation" (what every reported number is measured on)."""
    evaluation = read_dataset(path, "evaluation").astype(bool)
    if part not in ("fit", "evaluation"):
        raise ValueError(f"part {part!r}: 'fit' or 'evaluation'")
    rows = np.flatnonzero(evaluation if part == "evaluation" else ~evaluation)
    if rows.size == 0:
        raise ValueError(f"{path}: no {part} showers in it")
    return rows

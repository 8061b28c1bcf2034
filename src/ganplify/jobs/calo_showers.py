"""rules/calo_showers.smk: a calorimeter study's showers (simulated or from files) and their
observables, chunk by chunk.

A *calorimeter study* (``calorimeter.studies.{calo}``) is one geometry (``detector``), one
incident-energy spectrum and two samples, "truth" and "generated" — and a third, "judge": truth
that no reweighter sees, for the closure tests (:func:`sample_config`); :func:`study_settings`
merges the study's keys over the shared ``calorimeter`` ones. A *sample* is a list of segments:
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


def study_settings(calorimeter: Mapping, name: str) -> dict:
    """Calorimeter study ``name``: its own keys over the shared ``calorimeter`` section's."""
    shared = {k: v for k, v in calorimeter.items() if k not in ("studies", "run")}
    return shared | dict(calorimeter["studies"][name])


def sample_config(settings: Mapping, sample: str) -> Mapping | None:
    """The config section of a study's sample: ``truth``, ``generator`` (sample "generated"), or
    for "judge" the study's ``judge`` section — by default a fresh simulation like the truth's
    (its own random stream), and none (no independent closure) for a truth from files."""
    if sample == "truth":
        return settings["truth"]
    if sample == "generated":
        return settings["generator"]
    if sample != "judge":
        raise ValueError(f"unknown sample {sample!r}: truth, generated or judge")
    if "judge" in settings:
        return settings["judge"]
    return dict(settings["truth"]) if settings["truth"]["kind"] in SIMULATED else None


def study_samples(settings: Mapping) -> list[str]:
    """The samples a study has: truth, generated, and judge where there is one."""
    return [s for s in ("truth", "generated", "judge") if sample_config(settings, s) is not None]


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

    Simulated: ``ceil(n_showers / chunk)`` chunk files to be made. From files: every file is
    checked now against the study's geometry and energy range (structure and incident energies)
    — a bad file stops the study here, naming the file and the dataset — and cut into segments
    of ``chunk`` showers.
    """
    sample_cfg = sample_config(settings, sample)
    geometry = study_geometry(settings)
    chunk = int(settings["chunk"])
    if sample_cfg["kind"] in SIMULATED:
        n = int(sample_cfg["n_showers"])
        fmt = file_format(geometry)
        return [
            Segment(f"results/calorimeter/{calo}/{sample}/showers/{k}.h5", fmt, 0, m)
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


def gather_features(chunk_files: Sequence[str], out) -> None:
    """The observables of all segments of a sample in one file, in segment order."""
    obs = np.concatenate([read_dataset(f, "observables") for f in chunk_files])
    energy = np.concatenate([read_dataset(f, "incident_energy") for f in chunk_files])
    first = read_attrs(chunk_files[0])
    write_h5(
        out,
        {"observables": obs, "incident_energy": energy},
        provenance(
            observables=first["observables"],
            geometry=first.get("geometry", ""),
            segments=[str(f) for f in chunk_files],
        ),
    )


def read_features(path) -> tuple[np.ndarray, np.ndarray]:
    """(observables float64, incident energies GeV) of a features file."""
    return (
        read_dataset(path, "observables").astype(np.float64),
        read_dataset(path, "incident_energy").astype(np.float64),
    )

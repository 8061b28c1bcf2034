"""Shower files in the two formats the field uses, read and written in chunks.

- ``getting_high`` (the DCTR paper's data, FLC-QU-hep/getting_high): group ``30x30`` with
  ``energy`` (N, 1), the incident energy in GeV, and ``layers`` (N, 30, 30, 30), cell energies in
  MeV, axes (event, layer, x, y).
- ``calochallenge`` (CaloChallenge 2022): ``incident_energies`` (N, 1) in MeV and ``showers``
  (N, n_voxels) in MeV, voxels flattened layer-major. In the challenge's cylindrical geometries
  (:mod:`.challenge`: 368 / 533 / 6480 / 40500 voxels) in (layer, α, r) order; for the
  Cartesian ECAL layers × x × y voxels (27,000) in (layer, x, y) order.

Every check is against one geometry (:mod:`.detector`): a file whose voxels do not fit it is an
error, never reshaped. Readers hand out ``(energies in GeV, showers (n, *geometry.shape) in
MeV)`` chunk by chunk, whatever the format, so no data set is ever held whole (500,000 ILD
showers are 54 GB, dataset 3's 100,000 are 16 GB in float32). Writers
create chunked, gzip-compressed datasets (a 30³ shower of ~800 hit cells takes ~2.7 kB) that grow
chunk by chunk, under a temporary name renamed into place when complete.

A bad file stops the study with one :class:`ShowerFileError` naming the file and the dataset:
:func:`inspect` checks the structure (missing group or dataset, wrong shape or voxel count, counts
that disagree) from the metadata and the incident energies (finite, positive, inside the
study's range), all small; :func:`validate` also scans the showers in chunks (NaN or inf,
negative energies).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..core.io import attr_value
from .geometry import ILD, Calorimeter

GETTING_HIGH = "getting_high"
CALOCHALLENGE = "calochallenge"
FORMATS = (GETTING_HIGH, CALOCHALLENGE)

#: Dataset paths of each format: (incident energies, showers).
_DATASETS = {
    GETTING_HIGH: ("30x30/energy", "30x30/layers"),
    CALOCHALLENGE: ("incident_energies", "showers"),
}
#: Incident energies are stored in GeV (getting_high) or MeV (CaloChallenge).
_ENERGY_TO_GEV = {GETTING_HIGH: 1.0, CALOCHALLENGE: 1e-3}


class ShowerFileError(ValueError):
    """A shower file cannot be used; the message names the file and the dataset."""

    def __init__(self, path, dataset: str | None, problem: str):
        where = f"{path}" + (f", dataset '{dataset}'" if dataset else "")
        super().__init__(f"{where}: {problem}")
        self.path, self.dataset, self.problem = str(path), dataset, problem


@dataclass(frozen=True)
class ShowerFile:
    """A checked shower file."""

    path: str
    format: str
    n_showers: int
    #: one shower: (layers, x, y) Cartesian, (voxels,) cylindrical
    shower_shape: tuple[int, ...]

    @property
    def energy_dataset(self) -> str:
        return _DATASETS[self.format][0]

    @property
    def shower_dataset(self) -> str:
        return _DATASETS[self.format][1]


def dataset_names(fmt: str) -> tuple[str, str]:
    """(incident energies, showers) dataset paths of format ``fmt``."""
    return _DATASETS[fmt]


def detect_format(f: h5py.File) -> str | None:
    """The format whose datasets ``f`` has (None if neither)."""
    if "30x30" in f:
        return GETTING_HIGH
    if "showers" in f or "incident_energies" in f:
        return CALOCHALLENGE
    return None


def inspect(
    path,
    calorimeter: Calorimeter = ILD,
    fmt: str | None = None,
    energy_range_gev: tuple[float, float] | None = None,
) -> ShowerFile:
    """Check the structure of a shower file from its metadata and its incident energies (fast,
    any size): against ``calorimeter`` (any geometry of :mod:`.detector`) and, when given, the
    range of incident energies in GeV (1 % margin)."""
    path = Path(path)
    if not path.exists():
        raise ShowerFileError(path, None, "no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ShowerFileError(path, None, f"not a readable HDF5 file ({err})") from None
    with f:
        found = detect_format(f)
        fmt = fmt or found
        if fmt not in FORMATS:
            raise ShowerFileError(
                path,
                None,
                "neither getting_high (group '30x30' with 'energy' and 'layers') nor "
                "CaloChallenge ('incident_energies' and 'showers') datasets found",
            )
        e_name, s_name = _DATASETS[fmt]
        for name in (e_name, s_name):
            if name not in f or not isinstance(f[name], h5py.Dataset):
                raise ShowerFileError(path, name, f"missing ({fmt} format)")
        energies, showers = f[e_name], f[s_name]
        if energies.ndim not in (1, 2) or (energies.ndim == 2 and energies.shape[1] != 1):
            raise ShowerFileError(path, e_name, f"shape {energies.shape}, expected (N, 1)")
        cylindrical = calorimeter.kind == "cylindrical"
        if fmt == GETTING_HIGH and cylindrical:
            raise ShowerFileError(
                path,
                s_name,
                f"a getting_high file (30 x 30 x 30 Cartesian cells) cannot hold showers of the "
                f"cylindrical geometry {calorimeter.name!r}: use the CaloChallenge format",
            )
        if fmt == GETTING_HIGH and showers.shape[1:] != calorimeter.shape:
            raise ShowerFileError(
                path,
                s_name,
                f"shape {showers.shape}, expected (N, {', '.join(map(str, calorimeter.shape))})",
            )
        if fmt == CALOCHALLENGE and (showers.ndim != 2 or showers.shape[1] != calorimeter.n_voxels):
            raise ShowerFileError(
                path,
                s_name,
                f"shape {showers.shape}: {showers.shape[-1]} voxels, but geometry "
                f"{calorimeter.name!r} has {calorimeter.n_voxels} ({calorimeter.voxel_layout}): "
                "a file of another geometry?",
            )
        if len(energies) != len(showers):
            raise ShowerFileError(
                path, s_name, f"{len(showers)} showers but {len(energies)} incident energies"
            )
        if len(showers) == 0:
            raise ShowerFileError(path, s_name, "no showers")
        _check_incident(path, e_name, energies[()], _ENERGY_TO_GEV[fmt], energy_range_gev)
        return ShowerFile(str(path), fmt, int(len(showers)), tuple(calorimeter.shape))


def _check_incident(path, name, energies, to_gev: float, energy_range_gev) -> None:
    e = np.asarray(energies, dtype=np.float64).reshape(-1)
    bad = ~np.isfinite(e) | (e <= 0)
    if bad.any():
        raise ShowerFileError(
            path,
            name,
            f"{int(bad.sum())} incident energies not finite and positive, the first is shower "
            f"{int(np.argmax(bad))} ({e[np.argmax(bad)]})",
        )
    if energy_range_gev is not None:
        lo, hi = energy_range_gev
        e_gev = e * to_gev
        out = (e_gev < lo * 0.99) | (e_gev > hi * 1.01)
        if out.any():
            j = int(np.argmax(out))
            unit = "MeV" if to_gev != 1.0 else "GeV"
            raise ShowerFileError(
                path,
                name,
                f"{int(out.sum())} incident energies outside the geometry's range {lo:g}–{hi:g} "
                f"GeV, the first is shower {j} ({e[j]:g} {unit})",
            )


def iter_showers(
    source: ShowerFile, chunk: int = 1000, start: int = 0, stop: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(energies GeV (n,), showers MeV (n, layers, x, y) float32)`` chunk by chunk."""
    stop = source.n_showers if stop is None else min(stop, source.n_showers)
    with h5py.File(source.path, "r") as f:
        energies, showers = f[source.energy_dataset], f[source.shower_dataset]
        scale = _ENERGY_TO_GEV[source.format]
        for lo in range(start, stop, chunk):
            hi = min(lo + chunk, stop)
            e = np.asarray(energies[lo:hi], dtype=np.float64).reshape(-1) * scale
            s = np.asarray(showers[lo:hi], dtype=np.float32)
            yield e, s.reshape(hi - lo, *source.shower_shape)


def check_values(source: ShowerFile, energies, showers, offset: int = 0) -> None:
    """Raise :class:`ShowerFileError` for NaN, inf or negative values in a chunk read from
    ``source`` (``offset``: the index of the chunk's first shower in the file)."""
    for values, name in ((energies, source.energy_dataset), (showers, source.shower_dataset)):
        v = np.asarray(values).reshape(len(values), -1)
        for bad, what in ((~np.isfinite(v), "NaN or inf values"), (v < 0, "negative energies")):
            rows = bad.any(axis=1)
            if rows.any():
                first = offset + int(np.argmax(rows))
                raise ShowerFileError(
                    source.path,
                    name,
                    f"{what} in {int(rows.sum())} shower(s), the first is shower {first}",
                )


def validate(
    path,
    calorimeter: Calorimeter = ILD,
    fmt: str | None = None,
    chunk: int = 2000,
    energy_range_gev: tuple[float, float] | None = None,
):
    """:func:`inspect`, then scan every value in chunks: finite, non-negative energies."""
    source = inspect(path, calorimeter, fmt, energy_range_gev)
    offset = 0
    for e, s in iter_showers(source, chunk):
        check_values(source, e, s, offset)
        offset += len(e)
    return source


class ShowerWriter:
    """Write showers chunk by chunk to a new file in ``fmt``; the file appears when complete.

    Use as a context manager; :meth:`append` takes ``(energies GeV, showers MeV)`` of any number of
    showers. ``attrs`` (provenance) go to the file's root.
    """

    def __init__(
        self,
        path,
        fmt: str = GETTING_HIGH,
        *,
        calorimeter: Calorimeter = ILD,
        chunk_showers: int = 100,
        attrs: Mapping | None = None,
    ):
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r}: choose one of {FORMATS}")
        if fmt == GETTING_HIGH and calorimeter.kind != "cartesian":
            raise ValueError(f"geometry {calorimeter.name!r}: write it in the CaloChallenge format")
        self.path, self.fmt, self.calo = Path(path), fmt, calorimeter
        self.chunk_showers, self.attrs, self.n = int(chunk_showers), dict(attrs or {}), 0

    def __enter__(self) -> ShowerWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.file = h5py.File(self.tmp, "w")
        e_name, s_name = _DATASETS[self.fmt]
        shape = self.calo.shape if self.fmt == GETTING_HIGH else (self.calo.n_voxels,)
        gz = {"compression": "gzip", "compression_opts": 1}
        self.energies = self.file.create_dataset(
            e_name, (0, 1), maxshape=(None, 1), dtype="f8", chunks=(4096, 1), **gz
        )
        self.showers = self.file.create_dataset(
            s_name,
            (0, *shape),
            maxshape=(None, *shape),
            dtype="f4",
            chunks=(self.chunk_showers, *shape),
            **gz,
        )
        for key, value in self.attrs.items():
            self.file.attrs[key] = attr_value(value)
        return self

    def append(self, energies_gev, showers) -> None:
        e = np.asarray(energies_gev, dtype=np.float64).reshape(-1, 1) / _ENERGY_TO_GEV[self.fmt]
        s = np.asarray(showers, dtype=np.float32).reshape(len(e), *self.showers.shape[1:])
        n = self.n + len(e)
        self.energies.resize(n, axis=0)
        self.showers.resize(n, axis=0)
        self.energies[self.n : n] = e
        self.showers[self.n : n] = s
        self.n = n

    def __exit__(self, kind, value, tb) -> None:
        self.file.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)

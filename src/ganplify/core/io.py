"""Outputs: HDF5 files (one per job, written atomically, with provenance) and CSV tables.

What a stage's files hold is that stage's business (see :mod:`ganplify.jobs`); this module only
knows how to write and read them safely.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from .. import __version__


def provenance(**attrs) -> dict:
    """Attributes every output records: package versions plus the caller's (seed, identity, …)."""
    import iminuit
    import scipy

    base = {
        "ganplify_version": __version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "iminuit_version": iminuit.__version__,
        "h5py_version": h5py.__version__,
        "python_version": platform.python_version(),
    }
    base.update(attrs)
    return base


def attr_value(value):
    """An attribute value HDF5 can store: nested values (dicts, lists, None) as JSON strings."""
    if isinstance(value, Mapping | list | tuple) or value is None:
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str):
        # str subclasses (torch.__version__ is one) would reach h5py as fixed-width unicode arrays
        return str(value)
    return value


def write_h5(path, datasets: Mapping[str, object], attrs: Mapping[str, object] = ()) -> None:
    """Write ``datasets`` (``"group/name" -> array``) and root ``attrs`` to ``path`` atomically.

    The file appears under its final name only once complete (temporary name + ``os.replace``), so
    an interrupted job never leaves a truncated output that looks finished. Nested attribute values
    (dicts, lists, None) are stored as JSON strings.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            for key, value in dict(attrs).items():
                f.attrs[key] = attr_value(value)
            for name, value in datasets.items():
                f.create_dataset(name, data=np.asarray(value))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_attrs(path) -> dict:
    """Root attributes of ``path``; JSON-encoded values are decoded."""
    out = {}
    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            if isinstance(value, bytes):
                value = value.decode()
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            elif isinstance(value, np.generic):
                value = value.item()
            out[key] = value
    return out


def read_dataset(path, name: str) -> np.ndarray:
    """One dataset, with an error naming the file and the dataset if it is missing."""
    with h5py.File(path, "r") as f:
        if name not in f:
            raise KeyError(f"{path}: no dataset {name!r} (has: {sorted(_walk(f))})")
        return f[name][()]


def _walk(group, prefix=""):
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            yield from _walk(item, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}"


def write_csv(path, rows: Sequence[Mapping], columns: Sequence[str]) -> None:
    """Write ``rows`` with exactly ``columns``, floats in full precision, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    os.replace(tmp, path)

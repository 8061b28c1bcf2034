"""HDF5 outputs: one file per job, written atomically, with provenance attributes.

Every per-run file of the study carries a group ``quantiles`` with one dataset ``K{K}`` per number
of cells: the cell fractions of that run (shape ``(K,)``, or ``(n_gen, K)`` for generators), and a
group ``marginals`` with one dataset ``q{q}`` per number of quantiles per coordinate: the
per-coordinate fractions (shape ``(dim, q)``, or ``(n_gen, dim, q)``).
The gather step reads only this group, so every approach — sample, fit, GAN, ensemble — plugs into
the same tables.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np

from . import __version__

# Parallel jobs on a shared file system: HDF5's file locking fails on NFS/Lustre, and every job
# writes its own file, so there is nothing to lock.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")


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


def _attr_value(value):
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
                f.attrs[key] = _attr_value(value)
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


def quantile_key(n_cells: int) -> str:
    """Dataset name of the cell fractions for ``n_cells`` quantiles."""
    return f"quantiles/K{int(n_cells)}"


def marginal_key(q: int) -> str:
    """Dataset name of the per-coordinate fractions for ``q`` quantiles per coordinate."""
    return f"marginals/q{int(q)}"


def read_fractions(path, n_cells: int) -> np.ndarray:
    """Cell fractions for ``n_cells`` quantiles stored in a per-run file."""
    return read_dataset(path, quantile_key(n_cells))

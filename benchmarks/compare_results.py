"""Compare two results folders number for number: every CSV and every HDF5 dataset.

    python benchmarks/compare_results.py BEFORE/results AFTER/results

A refactor must change no number. This prints, per file, whether it is identical (CSVs cell for
cell, HDF5 datasets bit for bit, NaN equal to NaN), and lists every difference otherwise: files
or datasets present on one side only, shapes, and the largest absolute difference. HDF5
attributes (provenance) and figures are not compared. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd


def _datasets(path: Path) -> dict[str, np.ndarray]:
    out = {}

    def keep(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(keep)
    return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def compare(before: Path, after: Path) -> list[str]:
    """Differences between the two folders, one line each (empty: identical)."""
    problems = []
    files = {
        p.relative_to(before)
        for p in before.rglob("*")
        if p.suffix in (".csv", ".h5") and "benchmarks" not in p.parts
    }
    files |= {
        p.relative_to(after)
        for p in after.rglob("*")
        if p.suffix in (".csv", ".h5") and "benchmarks" not in p.parts
    }
    n_compared = 0
    for rel in sorted(files):
        a, b = before / rel, after / rel
        if not (a.exists() and b.exists()):
            problems.append(f"{rel}: only in {'before' if a.exists() else 'after'}")
            continue
        n_compared += 1
        if rel.suffix == ".csv":
            ta, tb = pd.read_csv(a), pd.read_csv(b)
            try:
                pd.testing.assert_frame_equal(ta, tb, check_exact=True)
            except AssertionError as err:
                problems.append(f"{rel}: {str(err).splitlines()[0]}")
            continue
        da, db = _datasets(a), _datasets(b)
        for name in sorted(set(da) | set(db)):
            if name not in da or name not in db:
                problems.append(f"{rel}:{name}: only in {'before' if name in da else 'after'}")
            elif not _same(da[name], db[name]):
                x, y = da[name], db[name]
                detail = f"shape {x.shape} vs {y.shape}"
                if x.shape == y.shape and x.dtype.kind in "fiu":
                    detail = f"max |diff| {np.nanmax(np.abs(x.astype(float) - y)):.3g}"
                problems.append(f"{rel}:{name}: {detail}")
    print(f"compared {n_compared} files ({len(files) - n_compared} on one side only)")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    a = p.parse_args(argv)
    problems = compare(a.before, a.after)
    for line in problems:
        print("DIFFERS", line)
    print("identical" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

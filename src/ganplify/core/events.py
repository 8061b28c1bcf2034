"""Which events a number was computed on: event identities and their digests.

An event is named by its sample and its row in that sample, ``(sample, index)`` — a toy's
``test`` events, a calorimeter study's ``truth_eval`` showers. Every fitting step records the rows
it fitted on (the weights files' ``fit/…_index``), every judge and summary the rows it scored and
a :func:`digest` of them (the summaries' ``evaluation_digest``), so a test can check, event by
event, that no reported number was computed on an event a fitting step saw.
"""

from __future__ import annotations

import hashlib

import numpy as np


def digest(sample: str, index) -> str:
    """A short SHA-256 of a set of events: the sample's name and its sorted row indices."""
    rows = np.sort(np.asarray(index, dtype=np.int64).ravel())
    h = hashlib.sha256(f"{sample}|".encode())
    h.update(rows.tobytes())
    return h.hexdigest()[:16]


def evaluation_mask(n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Which of ``n`` events are held out for evaluation: exactly round(fraction · n) of them,
    drawn at random (the rest are the fitting part)."""
    if not 0 < fraction < 1:
        raise ValueError(f"evaluation fraction {fraction!r}: between 0 and 1")
    k = int(round(fraction * n))
    if k < 1 or k >= n:
        raise ValueError(f"an evaluation part of {k} of {n} events: too few events to split")
    mask = np.zeros(int(n), dtype=bool)
    mask[rng.choice(int(n), size=k, replace=False)] = True
    return mask

"""Checkpoints that resume only the training that wrote them.

A checkpoint is a dict saved with ``torch.save`` that carries a ``fingerprint``: a hash of
everything that determines the training (hyper-parameters, data, seeds, device, engine version).
:func:`load_matching` hands back a checkpoint only when its fingerprint is the caller's, so a
changed hyper-parameter never continues a stale training. Writes are atomic (temporary name +
``os.replace``): a job killed while saving leaves the previous checkpoint intact.

Checkpoints live outside the declared outputs of a rule, because Snakemake deletes those before a
job runs; the job removes its checkpoint once its outputs are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger("ganplify.checkpoint")


def fingerprint(settings: Mapping, *arrays) -> str:
    """SHA-256 of ``settings`` (JSON, sorted keys) and the bytes of ``arrays`` (as float64)."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


def save_atomic(state: Mapping, path) -> None:
    """``torch.save(state, path)`` under a temporary name, then renamed into place."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(dict(state), tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_matching(path, fingerprint: str, map_location=None) -> dict | None:
    """The checkpoint at ``path`` if it exists, is readable and has ``fingerprint``; else None.

    Why a checkpoint is not used (unreadable, stale) is logged: it costs a restart, not the job.
    """
    import torch

    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:
        log.warning("ignoring unreadable checkpoint %s: %s", path, err)
        return None
    if state.get("fingerprint") != fingerprint:
        log.warning("ignoring stale checkpoint %s (hyper-parameters, data or seeds changed)", path)
        return None
    return state

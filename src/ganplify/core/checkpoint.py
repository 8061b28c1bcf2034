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


class Resumable:
    """Checkpoint methods of a training: needs ``state_dict()``, ``load_state_dict(state)``,
    ``fingerprint``, ``device`` and ``epoch``."""

    def save_checkpoint(self, path) -> None:
        """Write the full training state atomically (temporary file + rename)."""
        save_atomic(self.state_dict(), path)

    def try_resume(self, path) -> bool:
        """Resume from ``path`` if it holds a checkpoint of this very training; else start anew."""
        state = load_matching(path, self.fingerprint, map_location=self.device)
        if state is None:
            return False
        self.load_state_dict(state)
        log.info("resumed from %s at epoch %d", path, self.epoch)
        return True


def run_epochs(
    trainer,
    epochs: int,
    *,
    checkpoint_path=None,
    checkpoint_every: int,
    should_stop,
    on_epoch=lambda epoch: None,
):
    """Train to ``epochs`` with ``trainer.train_epoch()``, resuming and checkpointing on the way.

    ``trainer`` has ``epoch``, ``train_epoch()``, ``try_resume(path)`` and
    ``save_checkpoint(path)``. A checkpoint is written every ``checkpoint_every`` epochs (not
    after the last: the caller writes the result) and when ``should_stop()`` turns true (e.g. on
    SIGTERM from a scheduler), which then raises :class:`ganplify.core.runtime.Preempted`.
    ``on_epoch(epoch)`` runs after each epoch (logging).
    """
    from .runtime import Preempted

    if checkpoint_path is not None:
        trainer.try_resume(checkpoint_path)
    while trainer.epoch < epochs:
        trainer.train_epoch()
        e = trainer.epoch
        on_epoch(e)
        stop = should_stop()
        if checkpoint_path is not None and (stop or (e % checkpoint_every == 0 and e < epochs)):
            trainer.save_checkpoint(checkpoint_path)
        if stop:
            raise Preempted(f"stopped at epoch {e} on request; checkpoint {checkpoint_path}")
    return trainer

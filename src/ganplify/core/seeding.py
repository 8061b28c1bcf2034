"""Random streams derived from the study seed and a job's identity.

Every random number in the study comes from :func:`rng` (NumPy) or :func:`torch_seed` (PyTorch),
keyed by the study seed and the job's identity, e.g. ``("camelback_1d", "sample", 17)`` or
``("camelback_1d", "gan", 17, "member", 3)``. Rerunning a job therefore reproduces it bit for bit,
and no stream depends on how many other jobs (or ensemble members) exist.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key_to_int(key: str | int) -> int:
    if isinstance(key, bool):
        raise TypeError("seed keys must be str or int, not bool")
    if isinstance(key, int | np.integer):
        if key < 0:
            raise ValueError(f"integer seed keys must be >= 0, got {key}")
        return int(key)
    if isinstance(key, str):
        # A stable hash: Python's hash() of a str changes from process to process.
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    raise TypeError(f"seed keys must be str or int, got {type(key).__name__}")


def seed_sequence(seed: int, *identity: str | int) -> np.random.SeedSequence:
    """The SeedSequence for the job ``identity`` of the study with seed ``seed``."""
    return np.random.SeedSequence([_key_to_int(seed), *(_key_to_int(k) for k in identity)])


def rng(seed: int, *identity: str | int) -> np.random.Generator:
    """A NumPy generator for the job ``identity`` (see module docstring)."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *identity)))


def torch_seed(seed: int, *identity: str | int) -> int:
    """A 63-bit integer seed for ``torch.Generator.manual_seed`` for the job ``identity``."""
    return int(seed_sequence(seed, *identity).generate_state(1, np.uint64)[0] >> np.uint64(1))


# -- the identities of the GANplifying study's jobs ----------------------------------------------
# One owner per identity: the jobs, the benchmarks and the validations all derive their streams
# here, so a training sample or an ensemble member is the same wherever it is made.


def sample_rng(seed: int, study: str, index: int) -> np.random.Generator:
    """The stream that draws training sample ``index`` of ``study``."""
    return rng(seed, study, "sample", index)


def member_seeds(
    seed: int, study: str, approach: str, index: int, members: int, purpose: str | None = None
) -> list[int]:
    """Torch seeds of the ``members`` generators of run ``index`` of ``approach`` in ``study``.

    ``purpose=None`` seeds the training streams (initialisation, shuffles, noise, dropout);
    ``purpose="generate"`` the separate streams that draw the generated events afterwards.
    Member k's seed depends on k alone, not on how many members there are.
    """
    tail = () if purpose is None else (purpose,)
    return [torch_seed(seed, study, approach, index, "member", k, *tail) for k in range(members)]


def resample_rng(seed: int, study: str, index: int, member: int) -> np.random.Generator:
    """The stream that draws the bootstrap resample of forecast member ``member`` of run ``index``
    of ``study`` (ganplify.jobs.forecast): its own for every member, the same on every rerun."""
    return rng(seed, study, "forecast", index, "member", member, "resample")

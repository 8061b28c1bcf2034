"""The classifier kinds of DCTR on feature arrays, in one place.

A classifier is described by a mapping with ``kind`` and that kind's settings:

- ``boosted``: histogram gradient-boosted trees (:mod:`.boosted`, :class:`.boosted.BoostedConfig`)
  — the default for tabular features (the toys, the calorimeter's HL inputs) and every closure;
- ``mlp``: the paper's fully connected network (:mod:`.classifier`,
  :class:`.classifier.ClassifierConfig`).

Both are trained with balanced classes and early stopping on a held-out split, and both return a
fitted object with ``predict(x) -> h``, ``history`` and ``validation_index``, so the cross-fit,
calibration and weights (:mod:`.crossfit`, :mod:`.weights`) are the same for every kind. The
low-level networks on whole showers (:mod:`.lowlevel`) are trained on streamed batches instead.

The MLP's module (and with it PyTorch) is imported only when an MLP is configured or trained: a
job of trees alone — most of the toys' and the calorimeter's jobs, every closure — would otherwise
import a library it never calls (2026-12-07: 1.5 s of a toy judge job's 6.4 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Union

import numpy as np

from ..core.config import ConfigError
from .boosted import BoostedConfig, train_boosted

if TYPE_CHECKING:
    from .classifier import ClassifierConfig

KINDS = ("boosted", "mlp")

Config = Union[BoostedConfig, "ClassifierConfig"]


def classifier_config(cfg: Mapping) -> Config:
    """The settings of the classifier described by ``cfg`` (``kind`` and its settings)."""
    settings = dict(cfg)
    kind = settings.pop("kind", "mlp")
    if kind not in KINDS:
        raise ConfigError(f"classifier kind {kind!r}: choose one of {sorted(KINDS)}")
    if kind == "boosted":
        return BoostedConfig.from_config(settings)
    from .classifier import ClassifierConfig

    return ClassifierConfig.from_config(settings)


def kind_of(config: Config) -> str:
    return "boosted" if isinstance(config, BoostedConfig) else "mlp"


def train(
    x: np.ndarray,
    labels: np.ndarray,
    config: Config,
    *,
    seed: int,
    weights: np.ndarray | None = None,
    device="cpu",
):
    """Train the classifier ``config`` describes on ``x`` with ``labels`` (1 truth)."""
    if isinstance(config, BoostedConfig):
        return train_boosted(x, labels, config, seed=seed, weights=weights)
    from .classifier import train_classifier

    return train_classifier(x, labels, config, seed=seed, weights=weights, device=device)


def load_classifier(kind: str, settings, arrays):
    """A fitted classifier from what its ``state()`` gave: ``kind`` boosted, mlp or lowlevel."""
    if kind == "boosted":
        from .boosted import load_boosted

        return load_boosted(settings, arrays)
    if kind == "mlp":
        from .classifier import load_mlp

        return load_mlp(settings, arrays)
    if kind == "lowlevel":
        from .lowlevel import load_lowlevel

        return load_lowlevel(settings, arrays)
    raise ValueError(f"unknown classifier kind {kind!r} (boosted, mlp, lowlevel)")

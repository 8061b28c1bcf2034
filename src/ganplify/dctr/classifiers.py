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
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.config import ConfigError
from .boosted import BoostedConfig, train_boosted
from .classifier import ClassifierConfig, train_classifier

KINDS = {"boosted": BoostedConfig, "mlp": ClassifierConfig}

Config = BoostedConfig | ClassifierConfig


def classifier_config(cfg: Mapping) -> Config:
    """The settings of the classifier described by ``cfg`` (``kind`` and its settings)."""
    settings = dict(cfg)
    kind = settings.pop("kind", "mlp")
    if kind not in KINDS:
        raise ConfigError(f"classifier kind {kind!r}: choose one of {sorted(KINDS)}")
    return KINDS[kind].from_config(settings)


def kind_of(config: Config) -> str:
    return next(k for k, cls in KINDS.items() if isinstance(config, cls))


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
    return train_classifier(x, labels, config, seed=seed, weights=weights, device=device)

"""A binary classifier of truth (label 1) against generated (label 0) events.

An MLP with ReLU hidden layers and one logit out, trained with binary cross-entropy and Adam, with
early stopping on a validation split (docs/science.md §2.1, §2.3). Sample weights are accepted
(non-uniform initial weights, or DCTR weights for the closure test) and the two classes are
balanced explicitly: each class's weights are scaled to the same total, so that the optimal
classifier is h = p_T / (p_T + p_G) whatever the sample sizes, and h/(1 − h) = p_T/p_G.

Inputs are standardised by the mean and width of the training events (stored in the model), so one
learning rate serves features of any scale. Everything random — initialisation, validation split,
batch order — comes from one seed.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import from_mapping
from ..core.nets import adam, init_linear_layers, mlp
from .weights import balanced_weights

log = logging.getLogger("ganplify.dctr")


@dataclass(frozen=True)
class ClassifierConfig:
    """Network and training settings of the DCTR classifier."""

    hidden: tuple[int, ...] = (64, 128, 256)
    epochs: int = 100
    batch_size: int = 1024
    lr: float = 1e-3
    #: epochs without improvement of the validation loss before training stops
    patience: int = 10
    #: share of the training events held out for early stopping (and calibration)
    validation_fraction: float = 0.2
    #: independent cross-fits whose logits are averaged (:func:`.crossfit.cross_fit`); each
    #: costs a whole cross-fit of networks, hence 1
    repeats: int = 1

    def repeats_for(self, n_events: int) -> int:
        """The cross-fits to average (any sample size)."""
        return int(self.repeats)

    @classmethod
    def from_config(cls, cfg: Mapping, **extra) -> ClassifierConfig:
        return from_mapping(cls, cfg, **extra)


class MLP(nn.Module):
    """Standardise, then hidden layers with ReLU, then one logit."""

    def __init__(self, n_inputs: int, hidden: tuple[int, ...]):
        super().__init__()
        self.hidden = tuple(hidden)
        self.register_buffer("shift", torch.zeros(n_inputs))
        self.register_buffer("scale", torch.ones(n_inputs))
        self.net = mlp([n_inputs, *hidden, 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.shift) / self.scale)[..., 0]


@dataclass
class TrainedClassifier:
    """A trained model and its training record."""

    model: MLP
    #: per epoch: (training loss, validation loss)
    history: np.ndarray
    best_epoch: int
    #: indices (into the training arrays) held out for validation
    validation_index: np.ndarray

    kind = "mlp"

    def predict(self, x) -> np.ndarray:
        """Outputs h = sigmoid(logit), as float64."""
        return predict(self.model, x)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(settings, arrays) that :func:`load_mlp` turns back into the same network."""
        settings = {"n_inputs": int(self.model.shift.numel()), "hidden": list(self.model.hidden)}
        arrays = {
            f"state/{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()
        }
        return settings, arrays


def load_mlp(settings, arrays) -> TrainedClassifier:
    """The network :meth:`TrainedClassifier.state` describes (no training record)."""
    model = MLP(int(settings["n_inputs"]), tuple(int(h) for h in settings["hidden"]))
    state = {k[6:]: torch.from_numpy(np.asarray(v)) for k, v in arrays.items() if k[:6] == "state/"}
    model.load_state_dict(state)
    model.eval()
    return TrainedClassifier(model, np.empty((0, 2)), -1, np.empty(0, dtype=int))


def train_classifier(
    x: np.ndarray,
    labels: np.ndarray,
    config: ClassifierConfig,
    *,
    seed: int,
    weights: np.ndarray | None = None,
    device: str | torch.device = "cpu",
) -> TrainedClassifier:
    """Train on events ``x`` ``(n, d)`` with ``labels`` (1 truth, 0 generated).

    A random ``validation_fraction`` of the events is held out; the model of the epoch with the
    lowest validation loss is kept, and training stops after ``patience`` epochs without a new
    best. ``weights``: per-event sample weights (classes are balanced on top, see
    :func:`balanced_weights`).
    """
    x = np.asarray(x, dtype=np.float32).reshape(len(labels), -1)
    y = np.asarray(labels, dtype=np.float32)
    w = balanced_weights(y, weights).astype(np.float32)
    gen = torch.Generator().manual_seed(int(seed))
    order = torch.randperm(len(y), generator=gen).numpy()
    n_val = int(round(config.validation_fraction * len(y)))
    if n_val < 1 or n_val >= len(y):
        raise ValueError(f"validation split of {n_val} of {len(y)} events: too few events")
    val, train = np.sort(order[:n_val]), order[n_val:]

    model = MLP(x.shape[1], config.hidden)
    init_linear_layers(model, gen)
    mean, std = x[train].mean(0), x[train].std(0)
    model.shift.copy_(torch.from_numpy(mean))
    model.scale.copy_(torch.from_numpy(np.where(std > 0, std, 1.0)))
    device = torch.device(device)
    model.to(device)
    opt = adam(model.parameters(), lr=config.lr)
    xt, yt, wt = (torch.from_numpy(a).to(device) for a in (x, y, w))
    train_t = torch.from_numpy(train).to(device)
    val_t = torch.from_numpy(val).to(device)

    best, best_epoch, best_state, history = np.inf, -1, None, []
    for epoch in range(config.epochs):
        model.train()
        perm = train_t[torch.randperm(len(train_t), generator=gen).to(device)]
        total = torch.zeros((), device=device)
        for start in range(0, len(perm), config.batch_size):
            idx = perm[start : start + config.batch_size]
            wb = wt[idx]
            loss_i = F.binary_cross_entropy_with_logits(model(xt[idx]), yt[idx], reduction="none")
            loss = (loss_i * wb).sum() / wb.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * wb.sum()  # no host sync per batch
        val_loss = weighted_bce_logits(model, xt[val_t], yt[val_t], wt[val_t])
        history.append((float(total / wt[train_t].sum()), val_loss))
        if val_loss < best:
            best, best_epoch, best_state = val_loss, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    log.info(
        "classifier: %d epochs, best %d (validation loss %.5f)", len(history), best_epoch, best
    )
    return TrainedClassifier(model, np.array(history), best_epoch, val)


@torch.no_grad()
def weighted_bce_logits(model, x, y, w, batch_size: int = 65536) -> float:
    """Weighted mean binary cross-entropy of ``model`` on tensors ``x``, ``y``, ``w``."""
    model.eval()
    total = 0.0
    for start in range(0, len(y), batch_size):
        sl = slice(start, start + batch_size)
        loss = F.binary_cross_entropy_with_logits(model(x[sl]), y[sl], reduction="none")
        total += float((loss * w[sl]).sum())
    return total / float(w.sum())


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 65536) -> np.ndarray:
    """Classifier outputs h = sigmoid(logit) for events ``x``, as float64."""
    model.eval()
    if len(x) == 0:
        return np.empty(0)
    device = next(model.parameters()).device
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    out = [
        torch.sigmoid(model(torch.from_numpy(x[s : s + batch_size]).to(device))).double().cpu()
        for s in range(0, len(x), batch_size)
    ]
    return torch.cat(out).numpy() if out else np.empty(0)

"""CaloChallenge's classifier metric (arXiv:2410.21611; its ``evaluate.py``, modes cls-low and
cls-high), so that a number sits beside the challenge's published table.

The procedure, as the challenge's public code runs it:

- inputs: one row per shower, label 1 for the reference (Geant4) and 0 for the generated showers;
  cls-high the high-level vector (:func:`ganplify.calo.challenge_features.cls_high`), cls-low
  [log10 E_inc, voxels / E_inc] (E_inc in MeV, voxels below the data set's threshold zeroed);
- splits: each class shuffled and cut into train / test / validation — by the data set's counts
  (:data:`SPLITS`: 80,000 / 20,000 / the rest for dataset 1, 60,000 / 20,000 / the rest for
  datasets 2 and 3) when both files are large enough, else 60 / 20 / 20 % (the challenge's own
  fallback); the challenge needs two files of equal length, here the longer one is cut at random
  to the shorter's length;
- network: Linear(d, 2048), LeakyReLU, then ``n_layer`` = 2 × [Linear(2048, 2048), LeakyReLU]
  (dropout 0), Linear(2048, 1), in float64; BCEWithLogits; Adam (lr 2 × 10⁻⁴); batch 1000,
  shuffled; 50 epochs;
- the model kept is that of the epoch with the highest accuracy on the test split (the first of
  equals; training stops at accuracy 1);
- its sigmoid outputs are calibrated by isotonic regression fitted on the test split
  (clipped to [10⁻⁶, 1 − 10⁻⁶]); AUC and JSD = (ln 2 − BCE)/ln 2 of the calibrated outputs on the
  validation split are the result.

**Weights** (a reweighted generator): the generated showers' weights enter every step — the
training loss, the test accuracy that picks the epoch, the isotonic fit, the AUC and the BCE —
rescaled in each split to mean 1, so that the two classes carry equal totals as the challenge's
equal counts do. Without weights every step is the challenge's.

The network's random streams (its initialisation, the shuffles, the splits) derive from ``seed``;
on a GPU the result is reproducible up to the GPU's non-deterministic reductions.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..core import seeding
from .metrics import auc, jsd_from_bce

#: the challenge's (train, test) showers per class and data set; validation: the rest
SPLITS = {
    "1-photons": (80_000, 20_000, 21_000),
    "1-pions": (80_000, 20_000, 20_800),
    "2": (60_000, 20_000, 20_000),
    "3": (60_000, 20_000, 20_000),
}
#: the challenge's fallback split (fractions of train, test; validation: the rest)
FRACTIONS = (0.6, 0.2, 0.2)


@dataclass(frozen=True)
class ChallengeClassifierConfig:
    """The challenge's classifier and training (its ``--cls_*`` options and defaults)."""

    n_layer: int = 2
    n_hidden: int = 2048
    dropout: float = 0.0
    batch_size: int = 1000
    epochs: int = 50
    lr: float = 2e-4


@dataclass
class ClassifierResult:
    """The metric of one classifier run: calibrated AUC and JSD on the validation split."""

    auc: float
    jsd: float
    #: AUC of the uncalibrated outputs (isotonic regression ties some of them)
    auc_uncalibrated: float
    best_epoch: int
    n_train: int
    n_test: int
    n_validation: int
    #: per epoch: training loss, test accuracy
    history: list[dict] = field(default_factory=list)
    #: calibrated validation outputs and labels (and weights) for figures
    h_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    w_validation: np.ndarray | None = None


def split_counts(n: int, dataset: str | None = None) -> tuple[int, int, int]:
    """(train, test, validation) showers per class of ``n``: the data set's counts where ``n``
    holds them (validation: the rest, as the challenge's ``np.split`` gives it), else
    :data:`FRACTIONS`."""
    if dataset is not None and dataset in SPLITS and n >= sum(SPLITS[dataset]):
        train, test, _ = SPLITS[dataset]
    else:
        train, test = int(n * FRACTIONS[0]), int(n * FRACTIONS[1])
    if min(train, test, n - train - test) < 1:
        raise ValueError(f"{n} showers per class cannot be split into train, test and validation")
    return train, test, n - train - test


def build_network(input_dim: int, config: ChallengeClassifierConfig):
    """The challenge's DNN (logits out), float64."""
    import torch

    layers = [
        torch.nn.Linear(input_dim, config.n_hidden, dtype=torch.float64),
        torch.nn.LeakyReLU(),
        torch.nn.Dropout(config.dropout),
    ]
    for _ in range(config.n_layer):
        layers += [
            torch.nn.Linear(config.n_hidden, config.n_hidden, dtype=torch.float64),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(config.dropout),
        ]
    layers.append(torch.nn.Linear(config.n_hidden, 1, dtype=torch.float64))
    return torch.nn.Sequential(*layers)


def _unit_mean(w: np.ndarray) -> np.ndarray:
    return w * (len(w) / w.sum())


def _predict(model, x: np.ndarray, batch: int, device) -> np.ndarray:
    """Sigmoid outputs, batch by batch (inputs may be stored in float32; the network is float64)."""
    import torch

    out = []
    model.eval()
    with torch.no_grad():
        for lo in range(0, len(x), batch):
            xb = torch.as_tensor(x[lo : lo + batch], dtype=torch.float64, device=device)
            out.append(torch.sigmoid(model(xb)).reshape(-1).cpu().numpy())
    return np.concatenate(out) if out else np.empty(0)


def classifier_metric(
    x_reference,
    x_generated,
    w_generated=None,
    *,
    config: ChallengeClassifierConfig = ChallengeClassifierConfig(),
    dataset: str | None = None,
    seed: int,
    identity: tuple = ("challenge_classifier",),
    device: str = "cpu",
    progress: Callable[[Iterable, str], Iterable] | None = None,
) -> ClassifierResult:
    """The challenge's classifier metric of ``x_generated`` (optionally weighted) against
    ``x_reference`` (module docstring). ``dataset`` selects the challenge's split counts;
    ``progress(iterable, description)`` wraps the epochs when given."""
    import torch
    from sklearn.isotonic import IsotonicRegression

    from ..core.nets import adam

    x_ref, x_gen = np.asarray(x_reference), np.asarray(x_generated)
    if x_ref.ndim != 2 or x_gen.ndim != 2 or x_ref.shape[1] != x_gen.shape[1]:
        raise ValueError(f"reference {x_ref.shape} and generated {x_gen.shape}: same columns")
    w_gen = np.ones(len(x_gen)) if w_generated is None else np.asarray(w_generated, float)
    if len(w_gen) != len(x_gen):
        raise ValueError(f"{len(w_gen)} weights for {len(x_gen)} generated showers")
    if not np.all(np.isfinite(w_gen)) or np.any(w_gen < 0):
        raise ValueError("weights must be finite and >= 0")
    rng = seeding.rng(seed, *identity, "splits")
    n = min(len(x_ref), len(x_gen))
    train, test, val = split_counts(n, dataset)
    idx_ref = rng.permutation(len(x_ref))[:n]
    idx_gen = rng.permutation(len(x_gen))[:n]
    cuts = (slice(0, train), slice(train, train + test), slice(train + test, n))
    parts = []
    for cut in cuts:
        ir, ig = idx_ref[cut], idx_gen[cut]
        w = np.concatenate([np.ones(len(ir)), w_gen[ig]])
        if w[len(ir) :].sum() <= 0:
            raise ValueError("the generated showers of a split have zero total weight")
        w[len(ir) :] = _unit_mean(w[len(ir) :])
        y = np.concatenate([np.ones(len(ir)), np.zeros(len(ig))])
        order = rng.permutation(len(y))
        x = np.concatenate([x_ref[ir], x_gen[ig]])[order]
        parts.append((x, y[order], w[order]))
    (x_tr, y_tr, w_tr), (x_te, y_te, w_te), (x_va, y_va, w_va) = parts

    torch_gen = torch.Generator().manual_seed(seeding.torch_seed(seed, *identity, "network"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeding.torch_seed(seed, *identity, "init"))
        model = build_network(x_tr.shape[1], config).to(device)
    optim = adam(model.parameters(), lr=config.lr)
    y_t = torch.as_tensor(y_tr, dtype=torch.float64, device=device)
    w_t = torch.as_tensor(w_tr, dtype=torch.float64, device=device)

    best_acc, best_epoch, best_state, history = -math.inf, 0, None, []
    epochs = range(config.epochs)
    for epoch in progress(epochs, "classifier epochs") if progress else epochs:
        model.train()
        order = torch.randperm(len(y_tr), generator=torch_gen).numpy()
        total, seen = 0.0, 0
        for lo in range(0, len(order), config.batch_size):
            b = order[lo : lo + config.batch_size]
            xb = torch.as_tensor(x_tr[b], dtype=torch.float64, device=device)
            logits = model(xb).reshape(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, y_t[b], weight=w_t[b]
            )
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += float(loss.detach()) * len(b)
            seen += len(b)
        h_te = _predict(model, x_te, config.batch_size, device)
        acc = float(np.sum(w_te * ((h_te > 0.5) == (y_te == 1))) / w_te.sum())
        history.append({"epoch": epoch + 1, "train_loss": total / seen, "test_accuracy": acc})
        if acc > best_acc:
            best_acc, best_epoch = acc, epoch + 1
            best_state = copy.deepcopy(model.state_dict())
        if acc == 1.0:
            break
    model.load_state_dict(best_state)
    h_te = _predict(model, x_te, config.batch_size, device)
    h_va = _predict(model, x_va, config.batch_size, device)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1.0 - 1e-6)
    iso.fit(h_te, y_te, sample_weight=w_te)
    h_cal = iso.predict(h_va)
    return ClassifierResult(
        auc=auc(h_cal, y_va, w_va),
        jsd=jsd_from_bce(h_cal, y_va, w_va),
        auc_uncalibrated=auc(h_va, y_va, w_va),
        best_epoch=best_epoch,
        n_train=train,
        n_test=test,
        n_validation=val,
        history=history,
        h_validation=h_cal,
        y_validation=y_va,
        w_validation=w_va,
    )

"""The DCTR paper's low-level classifier: a 3D CNN on the whole 30 × 30 × 30 shower.

Architecture (arXiv:2009.03796, Sec. III.2; docs/science.md §2.4): a 50 % random flip in x and
another in y (the showers are symmetric under both; the flips hide the generator's artefacts from
the classifier); three Conv3d with ``filters`` filters, kernel 3, strides 2, 2, 1 and zero padding
1, 1, 0 (30³ → 15³ → 8³ → 6³), LayerNorm between the first and second and between the second and
third; the flattened 128 × 6 × 6 × 6 output into dense layers of 64, 256, 256 and 1;
LeakyReLU(0.01) after every layer but the last. BCE, Adam (lr 1e-3), **one** epoch (longer
training learns the generator's artefacts), then temperature scaling; the weights are capped at 5
(:mod:`.weights`).

Cell energies enter as log(1 + E/MeV): the raw energies span five decades within one shower.

For the CaloChallenge's cylindrical geometries the low-level classifier is the challenge's cls-low
network instead (:class:`VoxelMLP`): dense layers of ``hidden`` with LeakyReLU on the vector
[log10 E_inc, voxels / E_inc] (:func:`ganplify.calo.streaming.cls_low_inputs`), no flips (the
voxels have no mirror symmetry in their flattened order). The challenge trains 3 × 2048 units for
50 epochs; here the LL settings apply (one epoch, the paper's recipe for the LL weights). The
training loop takes any iterable of ``(showers, labels)`` batches (see
:mod:`ganplify.calo.streaming`), moves them to the device asynchronously, and optionally runs the
network under bfloat16 autocast.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import from_mapping
from ..core.nets import adam, init_linear_layers

log = logging.getLogger("ganplify.dctr")


@dataclass(frozen=True)
class LowLevelConfig:
    """Network and training settings (the paper's values are the defaults)."""

    filters: int = 128
    hidden: tuple[int, ...] = (64, 256, 256)
    leaky_slope: float = 0.01
    epochs: int = 1
    batch_size: int = 128
    lr: float = 1e-3
    flip: bool = True
    #: run forward and backward under bfloat16 autocast (weights and optimizer stay float32)
    bf16: bool = False

    @classmethod
    def from_config(cls, cfg: Mapping) -> LowLevelConfig:
        return from_mapping(cls, cfg)


class ShowerCNN(nn.Module):
    """Showers ``(B, layers, x, y)`` in MeV → one logit each."""

    def __init__(self, cfg: LowLevelConfig, shape=(30, 30, 30)):
        super().__init__()
        f, slope = cfg.filters, cfg.leaky_slope
        self.slope = slope
        self.conv1 = nn.Conv3d(1, f, 3, stride=2, padding=1)
        self.conv2 = nn.Conv3d(f, f, 3, stride=2, padding=1)
        self.conv3 = nn.Conv3d(f, f, 3, stride=1, padding=0)
        s1 = [(n + 2 - 3) // 2 + 1 for n in shape]
        s2 = [(n + 2 - 3) // 2 + 1 for n in s1]
        s3 = [n - 2 for n in s2]
        self.norm1 = nn.LayerNorm([f, *s1])
        self.norm2 = nn.LayerNorm([f, *s2])
        sizes = [f * int(np.prod(s3)), *cfg.hidden, 1]
        self.dense = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )

    def forward(self, showers: torch.Tensor) -> torch.Tensor:
        x = torch.log1p(showers.clamp_min(0.0)).unsqueeze(1)
        x = self.norm1(F.leaky_relu(self.conv1(x), self.slope))
        x = self.norm2(F.leaky_relu(self.conv2(x), self.slope))
        x = F.leaky_relu(self.conv3(x), self.slope).flatten(1)
        for j, layer in enumerate(self.dense):
            x = layer(x)
            if j < len(self.dense) - 1:
                x = F.leaky_relu(x, self.slope)
        return x[:, 0]


class VoxelMLP(nn.Module):
    """cls-low vectors ``(B, 1 + voxels)`` → one logit each (dense ``hidden``, LeakyReLU)."""

    def __init__(self, cfg: LowLevelConfig, n_inputs: int):
        super().__init__()
        self.slope = cfg.leaky_slope
        sizes = [int(n_inputs), *cfg.hidden, 1]
        self.dense = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for j, layer in enumerate(self.dense):
            x = layer(x)
            if j < len(self.dense) - 1:
                x = F.leaky_relu(x, self.slope)
        return x[:, 0]


def build_network(cfg: LowLevelConfig, shape) -> nn.Module:
    """The 3D CNN for showers of shape (layers, x, y); the cls-low MLP for flat inputs (n,)."""
    return ShowerCNN(cfg, shape) if len(shape) == 3 else VoxelMLP(cfg, shape[0])


def init_network(model: nn.Module, gen: torch.Generator) -> None:
    """PyTorch's default initialisation of every layer, drawn from ``gen``."""
    init_linear_layers(model, gen)
    if not isinstance(model, ShowerCNN):
        return
    with torch.no_grad():
        for conv in (model.conv1, model.conv2, model.conv3):
            fan_in = conv.in_channels * int(np.prod(conv.kernel_size))
            bound = 1.0 / fan_in**0.5
            for p in (conv.weight, conv.bias):
                p.copy_((2.0 * torch.rand(p.shape, generator=gen) - 1.0) * bound)


def _flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flip each shower in x (dim 2) and in y (dim 3), each with probability ½."""
    fx = (torch.rand(len(x), generator=gen) < 0.5).to(x.device)[:, None, None, None]
    fy = (torch.rand(len(x), generator=gen) < 0.5).to(x.device)[:, None, None, None]
    x = torch.where(fx, x.flip(2), x)
    return torch.where(fy, x.flip(3), x)


def autocast(device: torch.device, bf16: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def train_network(
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    cfg: LowLevelConfig,
    *,
    seed: int,
    device="cpu",
    shape=(30, 30, 30),
    log_every: int = 100,
) -> tuple[nn.Module, np.ndarray]:
    """Train a fresh network on ``batches`` (iterated ``cfg.epochs`` times; each iteration of the
    iterable is one epoch): the 3D CNN for shape (layers, x, y), the cls-low MLP for a flat input
    of shape (n,). Returns the model and the loss per step."""
    device = torch.device(device)
    gen = torch.Generator().manual_seed(int(seed))
    model = build_network(cfg, shape)
    flip = cfg.flip and isinstance(model, ShowerCNN)
    init_network(model, gen)
    model.to(device)
    opt = adam(model.parameters(), lr=cfg.lr)
    losses = []
    for epoch in range(cfg.epochs):
        model.train()
        for step, batch in enumerate(batches):
            # (showers, labels) or (showers, labels, event weights): a weighted loss
            x = batch[0].to(device, non_blocking=True)
            y = batch[1].to(device, non_blocking=True)
            w = batch[2].to(device, non_blocking=True) if len(batch) > 2 else None
            if flip:
                x = _flip(x, gen)
            with autocast(device, cfg.bf16):
                logits = model(x)
            loss = F.binary_cross_entropy_with_logits(logits.float(), y, weight=w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.detach())
            if log_every and (step + 1) % log_every == 0:
                recent = torch.stack(losses[-log_every:]).mean().item()
                log.info("epoch %d step %d: loss %.4f", epoch + 1, step + 1, recent)
    model.eval()
    return model, torch.stack(losses).cpu().numpy() if losses else np.empty(0)


@torch.no_grad()
def predict_batches(
    model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], n: int, *, bf16=False
) -> np.ndarray:
    """Outputs h = sigmoid(logit) for batches of ``(showers, positions)``; ``n``: the sample size
    (positions not in any batch stay NaN)."""
    model.eval()
    device = next(model.parameters()).device
    out = torch.full((n,), float("nan"), dtype=torch.float64)
    for x, idx in batches:
        with autocast(device, bf16):
            logits = model(x.to(device, non_blocking=True))
        out[idx] = torch.sigmoid(logits.float()).double().cpu()
    return out.numpy()


@dataclass
class TrainedLowLevel:
    """A trained low-level network (the 3D CNN, or the cls-low MLP for a flat ``shape``) as one
    fold's classifier of a stored reweighter: ``predict`` takes showers ``(n, *shape)`` (or
    cls-low vectors) as an array, one batch at a time."""

    model: nn.Module
    config: LowLevelConfig
    shape: tuple[int, ...]

    kind = "lowlevel"

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Outputs h = sigmoid(logit), float64, for ``x`` ``(n, *shape)``."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, *self.shape)
        batches = (
            (
                torch.from_numpy(x[lo : lo + batch_size]),
                torch.arange(lo, min(lo + batch_size, len(x))),
            )
            for lo in range(0, len(x), batch_size)
        )
        return predict_batches(self.model, batches, len(x), bf16=self.config.bf16)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        settings = {"config": asdict(self.config), "shape": list(self.shape)}
        arrays = {
            f"state/{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()
        }
        return settings, arrays


def load_lowlevel(settings, arrays) -> TrainedLowLevel:
    """The network :meth:`TrainedLowLevel.state` describes, on the CPU."""
    cfg = LowLevelConfig.from_config(settings["config"])
    shape = tuple(int(n) for n in settings["shape"])
    model = build_network(cfg, shape)
    state = {k[6:]: torch.from_numpy(np.asarray(v)) for k, v in arrays.items() if k[:6] == "state/"}
    model.load_state_dict(state)
    model.eval()
    return TrainedLowLevel(model, cfg, shape)

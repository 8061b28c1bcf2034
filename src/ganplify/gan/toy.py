"""The DCTR paper's toy GAN (arXiv:2009.03796, Sec. III.1; docs/science.md §2.3).

A small fully connected GAN: the generator maps ``latent_dim`` standard-normal inputs through two
hidden layers of 15 ReLU units to a linear output; the discriminator has two hidden layers of 25
ReLU units and one logit. Binary cross-entropy for D, the non-saturating −log D(G(z)) for G, one D
step and one G step per iteration on batches of 128, Adam. The paper trains 10,000 iterations
(20,000 for the 5 × 5 grid in the authors' notebook).

Where the paper is silent we chose, and say so: the data are standardised by the training
sample's mean and width (D sees standardised inputs, G's output is mapped back), so one learning
rate serves toys centred at 0 and at 3; the latent inputs are standard normal. Everything random
comes from one seed (initialisation, batches, latent draws), so a rerun is bit-identical on the
same device.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import from_mapping
from ..core.nets import adam, init_linear_layers, mlp

log = logging.getLogger("ganplify.gan")


@dataclass(frozen=True)
class ToyGanConfig:
    latent_dim: int = 5
    g_hidden: tuple[int, ...] = (15, 15)
    d_hidden: tuple[int, ...] = (25, 25)
    batch_size: int = 128
    iterations: int = 10_000
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)

    @classmethod
    def from_config(cls, cfg: Mapping, **extra) -> ToyGanConfig:
        return from_mapping(cls, cfg, **extra)


class ToyGan(nn.Module):
    """Generator and discriminator, with the data's standardisation stored as buffers."""

    def __init__(self, dim: int, cfg: ToyGanConfig):
        super().__init__()
        self.cfg = cfg
        self.G = mlp([cfg.latent_dim, *cfg.g_hidden, dim])
        self.D = mlp([dim, *cfg.d_hidden, 1])
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def generate_standardised(self, z: torch.Tensor) -> torch.Tensor:
        return self.G(z)

    @torch.no_grad()
    def generate(self, n: int, gen: torch.Generator, chunk: int = 100_000) -> np.ndarray:
        """``n`` events in data coordinates, latent noise from ``gen``."""
        out = []
        device = self.mean.device
        for start in range(0, n, chunk):
            rows = min(chunk, n - start)
            z = torch.randn(rows, self.cfg.latent_dim, generator=gen, device=gen.device)
            out.append((self.G(z.to(device)) * self.std + self.mean).double().cpu())
        return torch.cat(out).numpy() if out else np.empty((0, len(self.mean)))


def train_toy_gan(
    x: np.ndarray, cfg: ToyGanConfig, *, seed: int, device="cpu", log_every: int = 1000
) -> tuple[ToyGan, np.ndarray]:
    """Train on the events ``x`` ``(n, dim)``. Returns the model and the losses ``(iterations, 2)``
    (D loss, G loss)."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    gen = torch.Generator().manual_seed(int(seed))
    model = ToyGan(x.shape[1], cfg)
    init_linear_layers(model, gen)
    model.mean.copy_(torch.from_numpy(x.mean(0)))
    model.std.copy_(torch.from_numpy(x.std(0)))
    device = torch.device(device)
    model.to(device)
    data = ((torch.from_numpy(x).to(device)) - model.mean) / model.std
    opt_g = adam(model.G.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_d = adam(model.D.parameters(), lr=cfg.lr, betas=cfg.betas)
    n, b = len(data), cfg.batch_size
    history = torch.empty(cfg.iterations, 2)
    for it in range(cfg.iterations):
        idx = torch.randint(0, n, (b,), generator=gen).to(device)
        z = torch.randn(2 * b, cfg.latent_dim, generator=gen).to(device)
        with torch.no_grad():
            fake = model.G(z[:b])
        logits = model.D(torch.cat([data[idx], fake]))[:, 0]
        loss_d = F.softplus(-logits[:b]).mean() + F.softplus(logits[b:]).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-model.D(model.G(z[b:]))[:, 0]).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward(inputs=list(model.G.parameters()))
        opt_g.step()
        history[it, 0], history[it, 1] = loss_d.detach(), loss_g.detach()
        if log_every and (it + 1) % log_every == 0:
            d, g = history[it - log_every + 1 : it + 1].mean(0).tolist()
            log.info("iteration %d/%d: D loss %.4f, G loss %.4f", it + 1, cfg.iterations, d, g)
    model.eval()
    return model, history.numpy()

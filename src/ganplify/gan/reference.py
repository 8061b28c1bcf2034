"""A literal, unbatched implementation of the paper's GAN with standard PyTorch layers.

This is how one would write the paper's Sec. 2 for a single GAN: ``nn.Linear`` layers, the DeepSets
embedding as ``nn.Conv1d`` with kernel size 1, ``F.dropout`` on the global random stream, real and
generated batches judged in separate discriminator calls. It serves two purposes:

- a cross-check: loaded with a member's weights and fed the same dropout masks, it must give the
  batched engine's outputs (``tests/test_reference.py``);
- the baseline of ``benchmarks/gan_throughput.py``: K GANs trained one after another in a plain
  Python loop, the way the paper's 100 trainings would run without batching.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from .models import GanArchitecture


class PlainGenerator(nn.Module):
    def __init__(self, arch: GanArchitecture):
        super().__init__()
        self.arch = arch
        sizes = [arch.latent_dim] + [arch.g_hidden] * arch.g_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.out = nn.Linear(arch.g_hidden, arch.dim)

    def forward(self, z, keep=None):
        h = z
        for j, layer in enumerate(self.hidden):
            h = F.elu(layer(h))
            h = (
                F.dropout(h, self.arch.dropout, True)
                if keep is None
                else (h * keep[j] / (1 - self.arch.dropout))
            )
        return self.out(h)


class PlainDiscriminator(nn.Module):
    def __init__(self, arch: GanArchitecture):
        super().__init__()
        self.arch = arch
        emb = [arch.dim, *arch.embedding]
        self.embed = nn.ModuleList(nn.Conv1d(a, b, kernel_size=1) for a, b in pairwise(emb))
        sizes = [arch.dim + arch.embedding[-1]] + [arch.d_hidden] * arch.d_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.out = nn.Linear(arch.d_hidden, 1)

    def forward(self, batch, keep=None):
        """``batch``: ``(n, dim)`` → logits ``(n,)``."""
        n, d = batch.shape
        diffs = (batch[None, :, :] - batch[:, None, :]).transpose(1, 2)  # (n_i, d, n_j): B − x_i
        e = diffs
        for conv in self.embed:
            e = F.leaky_relu(conv(e), self.arch.leaky_slope)  # (n_i, channels, n_j)
        agg = torch.sqrt(e.var(dim=2) + 1e-12)
        h = torch.cat([batch, agg], dim=1)
        for j, layer in enumerate(self.hidden):
            h = F.leaky_relu(layer(h), self.arch.leaky_slope)
            h = (
                F.dropout(h, self.arch.dropout, True)
                if keep is None
                else (h * keep[j] / (1 - self.arch.dropout))
            )
        return self.out(h)[:, 0]


def load_member(plain: nn.Module, batched: nn.Module, k: int) -> None:
    """Copy member ``k`` of a batched model into the plain model (weights transposed as needed)."""
    src = [m for m in batched.modules() if hasattr(m, "weight") and m.weight.ndim == 3]
    dst = [m for m in plain.modules() if isinstance(m, nn.Linear | nn.Conv1d)]
    with torch.no_grad():
        for b, p in zip(src, dst, strict=True):
            w = b.weight[k].T  # (out, in)
            p.weight.copy_(w.reshape(p.weight.shape))
            p.bias.copy_(b.bias[k, 0])


class PlainGan:
    """One GAN trained the plain way (the benchmark's per-model loop)."""

    def __init__(
        self,
        data: torch.Tensor,
        arch: GanArchitecture,
        lr=5e-5,
        betas=(0.5, 0.9),
        batch_size=10,
        data_noise=0.1,
        gamma=0.01,
    ):
        self.data, self.arch = data, arch
        self.batch_size, self.data_noise, self.gamma = batch_size, data_noise, gamma
        self.G, self.D = PlainGenerator(arch), PlainDiscriminator(arch)
        for m in list(self.G.modules()) + list(self.D.modules()):
            if isinstance(m, nn.Linear | nn.Conv1d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas)

    def _latent(self, n):
        return 2 * torch.rand(n, self.arch.latent_dim) - 1

    def train_epoch(self):
        data = self.data[torch.randperm(len(self.data))]
        for start in range(0, len(data), self.batch_size):
            real = data[start : start + self.batch_size]
            n = len(real)
            real = (real + (2 * torch.rand_like(real) - 1) * self.data_noise).requires_grad_(True)
            with torch.no_grad():
                fake = self.G(self._latent(n))
            fake.requires_grad_(True)
            phi_r, phi_f = self.D(real), self.D(fake)
            loss = F.softplus(-phi_r).mean() + F.softplus(phi_f).mean()
            g_r, g_f = torch.autograd.grad(
                (phi_r.sum(), phi_f.sum()), (real, fake), create_graph=True
            )
            pen = ((1 - torch.sigmoid(phi_r)) ** 2 * g_r.pow(2).sum(-1)).mean() + (
                torch.sigmoid(phi_f) ** 2 * g_f.pow(2).sum(-1)
            ).mean()
            loss = loss + 0.5 * self.gamma * pen
            self.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_d.step()

            loss_g = F.softplus(-self.D(self.G(self._latent(n)))).mean()
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()

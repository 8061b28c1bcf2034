"""The paper's GAN (arXiv:2008.06545, Sec. 2) for K independent members at once.

Every layer holds the weights of K members stacked along a leading axis, and every tensor that flows
through the networks has shape ``(K, rows, features)``: one batched matrix multiply evaluates all
members, and since no operation mixes the member axis, member k's outputs and gradients depend on
member k's parameters and inputs only. K = 1 is the paper's single GAN.

The modules hold no random state. Dropout masks (kept active at generation, as in the paper) and
latent noise are passed in by the caller, drawn from each member's own stream
(:class:`MemberStreams`), so member k's random numbers do not depend on K.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import from_mapping


@dataclass(frozen=True)
class GanArchitecture:
    """Sizes of the generator and discriminator: the study's defaults (config.yaml's
    ``gan.architecture``), the paper's but for ``dropout`` (its 0.5: config/paper-literal.yaml)."""

    dim: int = 1
    latent_dim: int = 1000
    g_hidden: int = 256
    g_layers: int = 7
    d_hidden: int = 256
    d_layers: int = 7
    embedding: tuple[int, ...] = (256, 256, 32)
    dropout: float = 0.2
    leaky_slope: float = 0.01

    @classmethod
    def from_config(cls, cfg: Mapping, dim: int) -> GanArchitecture:
        """From the config's ``gan.architecture`` section, for data of dimension ``dim``."""
        return from_mapping(cls, cfg, dim=dim)


class MemberStreams:
    """One ``torch.Generator`` per member; draws come back stacked as ``(K, *shape)``.

    Member k's stream is seeded from its own identity only, and every draw consumes the same
    numbers of each member's stream whatever K is: training K members batched or one at a time gives
    the same random numbers.
    """

    def __init__(self, seeds: Sequence[int], device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.generators = [torch.Generator(self.device).manual_seed(int(s)) for s in seeds]

    def __len__(self) -> int:
        return len(self.generators)

    def uniform(self, *shape: int) -> torch.Tensor:
        """Uniform numbers in [0, 1), shape ``(K, *shape)``."""
        return torch.stack(
            [torch.rand(shape, generator=g, device=self.device) for g in self.generators]
        )

    def fill_uniform_(self, out: torch.Tensor) -> torch.Tensor:
        """Fill ``out`` of shape ``(K, *shape)`` in place: row k from member k's stream.

        The same numbers as :meth:`uniform`, written into a fixed buffer (one that a captured
        CUDA graph reads).
        """
        if out.shape[0] != len(self.generators):
            raise ValueError(f"buffer for {out.shape[0]} members, streams for {len(self)}")
        for row, g in zip(out, self.generators, strict=True):
            torch.rand(row.shape, generator=g, device=self.device, out=row)
        return out

    def get_state(self) -> list[torch.Tensor]:
        return [g.get_state() for g in self.generators]

    def set_state(self, states: Sequence[torch.Tensor]) -> None:
        if len(states) != len(self.generators):
            raise ValueError(f"{len(states)} stream states for {len(self.generators)} members")
        for g, s in zip(self.generators, states, strict=True):
            g.set_state(s.cpu())  # map_location may have moved it; states live on the CPU


class BatchedLinear(nn.Module):
    """K independent affine maps: ``(K, R, n_in) -> (K, R, n_out)`` with one ``baddbmm``."""

    def __init__(self, members: int, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(members, 1, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)

    @torch.no_grad()
    def glorot_(self, uniforms: torch.Tensor) -> None:
        """Glorot-uniform weights from per-member uniforms in [0, 1), zero biases.

        Glorot (Keras' default), not PyTorch's default init: with the latter the generator's
        outputs start with a spread of ~0.07 against data at ±4 and the discriminator wins at
        once (docs/science.md §1.5).
        """
        n_in, n_out = self.weight.shape[1:]
        limit = (6.0 / (n_in + n_out)) ** 0.5
        self.weight.copy_((2.0 * uniforms.reshape(self.weight.shape) - 1.0) * limit)
        self.bias.zero_()


def dropout_mask(u: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted-dropout multipliers from uniforms ``u``: 1/(1 − p) where u ≥ p (kept), else 0.

    A float mask, so that applying dropout is one multiplication forward and one backward (a
    boolean mask would cost a cast and a division in both directions, on every layer).
    """
    return (u >= p).to(u.dtype) * (1.0 / (1.0 - p))


def _dropout(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    # mask from dropout_mask; None switches dropout off (only for tests and diagnostics).
    return h if mask is None else h * mask


class Generator(nn.Module):
    """Latent uniforms in [−1, 1] → ``g_layers`` × (dense, ELU, dropout) → dense to ``dim``."""

    def __init__(self, members: int, arch: GanArchitecture):
        super().__init__()
        self.arch = arch
        sizes = [arch.latent_dim] + [arch.g_hidden] * arch.g_layers
        self.hidden = nn.ModuleList(BatchedLinear(members, a, b) for a, b in pairwise(sizes))
        self.out = BatchedLinear(members, arch.g_hidden, arch.dim)

    def mask_shape(self, rows: int) -> tuple[int, ...]:
        return (self.arch.g_layers, rows, self.arch.g_hidden)

    def forward(self, z: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``z``: ``(K, R, latent_dim)``; ``mask`` (:func:`dropout_mask`):
        ``(K, g_layers, R, g_hidden)`` or None."""
        h = z
        for j, layer in enumerate(self.hidden):
            h = _dropout(F.elu(layer(h)), None if mask is None else mask[:, j])
        return self.out(h)


class Discriminator(nn.Module):
    """The paper's DeepSets discriminator, returning logits.

    Each point x of a batch B is judged with the batch: the differences B − x pass through an
    embedding of 1×1 convolutions (per-element dense layers, LeakyReLU), are aggregated over the
    batch with the standard deviation, concatenated with x, and go through ``d_layers`` ×
    (dense, LeakyReLU, dropout) to one logit. The sigmoid is left to the loss (numerically stable).
    """

    def __init__(self, members: int, arch: GanArchitecture):
        super().__init__()
        self.arch = arch
        emb = [arch.dim, *arch.embedding]
        self.embed = nn.ModuleList(BatchedLinear(members, a, b) for a, b in pairwise(emb))
        sizes = [arch.dim + arch.embedding[-1]] + [arch.d_hidden] * arch.d_layers
        self.hidden = nn.ModuleList(BatchedLinear(members, a, b) for a, b in pairwise(sizes))
        self.out = BatchedLinear(members, arch.d_hidden, 1)

    def mask_shape(self, rows: int) -> tuple[int, ...]:
        return (self.arch.d_layers, rows, self.arch.d_hidden)

    def forward(self, sets: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``sets``: ``(K, S, n, dim)``, S batches of n points → logits ``(K, S, n)``.

        Each point is judged against its own batch. Several batches (real and generated) go
        through in one call, which halves the number of kernel launches of a training step.
        ``mask`` (:func:`dropout_mask`): ``(K, d_layers, S·n, d_hidden)`` or None.
        """
        k, s, n, d = sets.shape
        slope = self.arch.leaky_slope
        diffs = sets[:, :, None, :, :] - sets[:, :, :, None, :]  # (K, S, n_i, n_j, d): B − x_i
        e = diffs.reshape(k, s * n * n, d)
        for layer in self.embed:
            e = F.leaky_relu(layer(e), slope)
        e = e.reshape(k, s * n, n, -1)
        # Standard deviation over the batch (unbiased, torch's default). The epsilon keeps the
        # gradient finite when all embedded differences coincide.
        agg = torch.sqrt(e.var(dim=2) + 1e-12)
        h = torch.cat([sets.reshape(k, s * n, d), agg], dim=-1)
        for j, layer in enumerate(self.hidden):
            h = _dropout(F.leaky_relu(layer(h), slope), None if mask is None else mask[:, j])
        return self.out(h).reshape(k, s, n)


def init_members(module: nn.Module, streams: MemberStreams) -> None:
    """Glorot-initialise every :class:`BatchedLinear` of ``module`` from the members' streams.

    Layers are visited in registration order and each draws its weights from every member's
    stream, so member k's initial weights do not depend on K.
    """
    for layer in module.modules():
        if isinstance(layer, BatchedLinear):
            layer.glorot_(streams.uniform(*layer.weight.shape[1:]))

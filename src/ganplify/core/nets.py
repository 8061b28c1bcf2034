"""Small PyTorch building blocks shared by the parts: a plain MLP, a seeded initialisation and
the Adam optimiser every training uses.

Initialisation draws from an explicit ``torch.Generator``, never from torch's global stream, so
that a network's starting point is a function of the job's seed alone.
"""

from __future__ import annotations

import torch
from torch import nn


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers between ``sizes``, ``activation`` after every one but the last."""
    layers: list[nn.Module] = []
    for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if j < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


@torch.no_grad()
def init_linear_layers(module: nn.Module, gen: torch.Generator) -> None:
    """PyTorch's default initialisation of every ``nn.Linear`` in ``module``, drawn from ``gen``.

    U(±1/√fan_in) for weights and biases, as ``nn.Linear.reset_parameters`` does.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            bound = 1.0 / layer.in_features**0.5
            for p in (layer.weight, layer.bias):
                p.copy_((2.0 * torch.rand(p.shape, generator=gen) - 1.0) * bound)


def adam(params, *, lr, betas=(0.9, 0.999), **kwargs) -> torch.optim.Adam:
    """:class:`torch.optim.Adam` with its multi-tensor ("foreach") update on a CPU too.

    On a CPU torch picks the per-tensor loop, one Python dispatch per parameter tensor and
    operation; our small networks spend a tenth of a training step there. Both updates apply
    the same operations to every element and give bit-identical parameters (tests/test_gan.py).
    ``kwargs`` go to the optimiser as they are (``fused=True`` on CUDA replaces foreach)."""
    if not kwargs.get("fused"):
        kwargs.setdefault("foreach", True)
    return torch.optim.Adam(params, lr=lr, betas=betas, **kwargs)

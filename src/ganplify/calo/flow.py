"""A learned shower generator by conditional flow matching (CFM) on the voxel energies.

Why flow matching. CaloChallenge's leading entries are diffusion and flow-matching models: on
dataset 1 photons CaloDiffusion and CaloScore reach a cls-high AUC of 0.536 and 0.552, its VAEs
none below 0.96 (arXiv:2410.21611); on datasets 2 and 3 CaloDREAM (arXiv:2405.09629) is
conditional flow matching. Flow matching trains like a regression — one network evaluation per
shower and step, a mean-squared error, no adversary, no evidence bound — and samples by
integrating an ordinary differential equation (ODE) whose step count trades time for fidelity.
Diffusion is the same family with a stochastic sampler; a deterministic ODE sampler typically
needs fewer steps for the same quality, which matters on a CPU.

The representation. A shower of incident energy E (MeV) is, per voxel, ``x_i = log(E_i /
e_min)`` where it is hit (``e_min``: the smallest hit energy of the training showers, the
simulator's threshold or its smallest deposit), so hits lie at ``x_i >= 0``; and, last,
``log(E_vis / E)``. Sparsity is held by dequantising the empty voxels: an empty voxel is drawn
uniformly from the slab ``[-zero_gap - zero_width, -zero_gap)`` afresh in every batch, so the
model learns one continuous density per voxel whose mass below the gap is the probability of
being empty — jointly with every other voxel, so the hit count keeps its correlation with the
shower's energy and shape. A generated voxel is hit where it lands above a boundary in the
gap: its middle, ``-zero_gap / 2``, or (the default) a boundary set per voxel and energy after
training (:meth:`FlowGenerator.calibrate`). Why a gap: a finite network blurs each voxel's
density, and a slab that touches the hits (gap 0) has its full density at the boundary, so the
blur carries empty voxels over it. On 20,000 training showers after 20 epochs (a first version:
no linear term, no calibration, no range) the hits per shower at 256 MeV / 4 GeV / 65 GeV were
54 / 221 / 327 with gap 0, 26 / 203 / 321 with gap 1 and 20 / 194 / 317 with gap 2, against the
truth's 19 / 169 / 304 (gap 3: 17 / 189 / 315, too few at low energy). The gap alone does not
hold the count (fully trained, 179 per shower for the truth's 164); the calibration does. (The
VAE's first version, a cut on a blurred zero level of ``log(u + alpha)``, made 2,100 hits for
750 on ILD.)

Every coordinate is standardised with the training data's exact mean and standard deviation
*at the shower's incident energy* (:class:`FlowStandardisation`: per energy for a discrete
spectrum, piecewise linear in log E between knots otherwise; the slab's moments included). Why
conditional: pooled over energies, a voxel's spread is dominated by how its occupancy and energy
change with E, and the model must resolve the 1.4 % resolution of log(E_vis / E) at 65 GeV, or
the slab of a voxel that is rarely hit at 256 MeV, as a sliver of a unit-scale coordinate. With
pooled moments (and gap 0), 20 epochs on 20,000 showers gave 94 hits per 256 MeV shower against
the truth's 19 and a visible energy 50 % too high (conditional: 54 hits, 13 % too high). The
network's condition is the globally standardised log E.

The model. A velocity field ``v(x_t, t, c)``: an MLP whose every hidden layer also receives the
time's Fourier features and the condition, plus a per-coordinate linear term (see
:class:`VelocityField`). Training: ``x_0 ~ N(0, 1)``, ``x_1`` a training
shower, ``t ~ U(0, 1)``, ``x_t = (1 - t) x_0 + t x_1``, loss ``|v - (x_1 - x_0)|²`` (the
rectified-flow / optimal-transport path of Lipman et al. 2022, Liu et al. 2022); Adam with a
cosine learning rate decaying to 0 over the configured epochs. Sampling: ``x_0 ~ N(0, 1)``
integrated from t = 0 to 1 in ``steps`` equal steps by Euler, midpoint or Heun (1, 2, 2 network
evaluations a step), then held inside the training's range at that energy
(:meth:`FlowStandardisation.clip`), and decoded with each voxel's hit boundary calibrated after
training so that it is hit as often as in the training showers at that energy
(:meth:`FlowGenerator.calibrate`, ``hit_calibration``; the gap's middle without it: then, on
20,000 showers, 179 hits per shower for the truth's 164 and a judge AUC of 0.995, against 164
and 0.975 calibrated). Optionally (``whiten``) the standardised coordinates are decorrelated
first (:func:`whitening`; it did not help here).

Exact resume. Every random draw of an epoch (batch order, noise, times, dequantisation) comes
from a stream of (seed, epoch), and the learning rate is a function of the step, so the
checkpoint (weights, Adam's moments, epoch, history) continues a killed training bit for bit.
Training data are read slice by slice (:class:`.learned.ShowerSlices`), never held whole.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn

from ..core import checkpoint
from ..core.nets import adam
from .learned import ShowerSlices

log = logging.getLogger("ganplify")

#: Part of every checkpoint's fingerprint: bump it when the order of random draws or the
#: arithmetic changes.
ENGINE = 3

#: ODE solvers of the sampler and their network evaluations per step.
SOLVERS = {"euler": 1, "midpoint": 2, "heun": 2}

#: Fourier frequencies of the time embedding (multiples of pi).
_FREQUENCIES = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class FlowConfig:
    """The flow's architecture, training and sampler (``calorimeter.trained.flow``)."""

    hidden: tuple[int, ...] = (512, 512, 512)
    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    #: ODE steps of the sampler
    steps: int = 32
    solver: str = "midpoint"
    #: width (in log energy) of the slab that the empty voxels fill
    zero_width: float = 1.0
    #: gap (in log energy) between that slab and the smallest hit; the hit boundary is its middle
    zero_gap: float = 2.0
    #: showers per knot generated after training to calibrate the hit boundaries (0: none)
    hit_calibration: int = 1000
    #: decorrelate the standardised coordinates with their pooled correlation matrix
    whiten: bool = False

    def __post_init__(self):
        if self.solver not in SOLVERS:
            raise ValueError(
                f"calorimeter.trained.flow.solver: {self.solver!r} is not one of {list(SOLVERS)}"
            )
        if int(self.steps) < 1:
            raise ValueError(f"calorimeter.trained.flow.steps: {self.steps} is below 1")
        if not self.zero_width > 0:
            raise ValueError(f"calorimeter.trained.flow.zero_width: {self.zero_width} is not > 0")
        if not self.zero_gap >= 0:
            raise ValueError(f"calorimeter.trained.flow.zero_gap: {self.zero_gap} is below 0")
        if int(self.hit_calibration) < 0:
            raise ValueError(
                f"calorimeter.trained.flow.hit_calibration: {self.hit_calibration} is below 0"
            )

    @classmethod
    def from_config(cls, cfg) -> FlowConfig:
        known = set(cls.__dataclass_fields__)
        d = {k: v for k, v in dict(cfg).items() if k in known}
        if "hidden" in d:
            d["hidden"] = tuple(int(h) for h in d["hidden"])
        return cls(**d)


def encode(energies_gev, showers_mev, e_min: float, zeros) -> tuple[np.ndarray, np.ndarray]:
    """``(x, log E/MeV)``: per shower ``log(E_i / e_min)`` of the hit voxels, ``-zeros`` (an
    array of the showers' shape, values in (gap, gap + zero_width]) at the empty ones, and,
    last, ``log(E_vis / E)`` (n, voxels + 1); and the log incident energy (n,)."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1) * 1e3
    s = np.asarray(showers_mev, dtype=np.float64).reshape(len(e), -1)
    hit = s > 0
    x = np.where(hit, np.log(np.where(hit, s, 1.0) / e_min), -np.asarray(zeros).reshape(s.shape))
    # an empty shower (a tiny incident energy) keeps a visible energy of 1 keV: log stays finite
    e_vis = np.maximum(s.sum(1), 1e-3)
    return np.concatenate([x, np.log(e_vis / e)[:, None]], axis=1), np.log(e)


def decode(x, energies_gev, e_min: float, boundary=0.0) -> np.ndarray:
    """Voxel energies (MeV, float32) from encoded showers (:func:`encode`): a voxel is hit where
    ``x_i >= boundary`` (a number, or one per shower and voxel), with ``e_min · exp(max(x_i,
    0))``; the hits are then scaled to the decoded visible energy ``E · exp(x_last)``, each
    keeping at least ``e_min``."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1) * 1e3
    x = np.asarray(x, dtype=np.float64)
    hits = x[:, :-1] >= boundary
    u = np.where(hits, np.exp(np.clip(x[:, :-1], 0.0, 50.0)), 0.0) * e_min
    total = u.sum(1, keepdims=True)
    e_vis = (e * np.exp(np.minimum(x[:, -1], 5.0)))[:, None]
    scale = np.divide(e_vis, total, out=np.zeros_like(total), where=total > 0)
    return np.where(hits, np.maximum(u * scale, e_min), 0.0).astype(np.float32)


#: At most this many knots of the conditional standardisation (:func:`knots`).
MAX_KNOTS = 16


def knots(log_e, max_knots: int = MAX_KNOTS) -> np.ndarray:
    """The knots (log E/MeV) of the conditional standardisation: the distinct incident energies
    of a discrete spectrum (up to ``max_knots``), else ``max_knots`` quantiles."""
    c = np.asarray(log_e, dtype=np.float64)
    distinct = np.unique(np.round(c, 9))
    if len(distinct) <= max_knots:
        return distinct
    return np.unique(np.quantile(c, np.linspace(0.0, 1.0, max_knots)))


def hat_weights(log_e, knots_: np.ndarray) -> np.ndarray:
    """``(n, K)`` weights of the piecewise-linear (hat) basis on ``knots_`` at ``log_e``,
    constant beyond the outer knots."""
    c = np.asarray(log_e, dtype=np.float64).reshape(-1)
    k = len(knots_)
    w = np.zeros((len(c), k))
    if k == 1:
        w[:, 0] = 1.0
        return w
    c = np.clip(c, knots_[0], knots_[-1])
    i = np.clip(np.searchsorted(knots_, c, side="right") - 1, 0, k - 2)
    lam = (c - knots_[i]) / (knots_[i + 1] - knots_[i])
    rows = np.arange(len(c))
    w[rows, i] = 1.0 - lam
    w[rows, i + 1] = lam
    return w


@dataclass
class FlowStandardisation:
    """Every encoded coordinate's mean and standard deviation *given the incident energy*:
    piecewise linear in log E between ``knots`` (``mean``, ``std``: one row per knot; exact
    per-energy moments for a discrete spectrum); the condition's global mean and standard
    deviation (the network's input); the smallest hit energy ``e_min`` (MeV); the count; and
    per knot every voxel's hit fraction (the least-squares fit on the hat basis, as the moments)."""

    knots: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    c_mean: float
    c_std: float
    e_min: float
    n: int = 0
    hit_fraction: np.ndarray | None = None
    #: ``C^(-1/2)`` and ``C^(1/2)`` of the standardised coordinates' correlation matrix C
    whiten: np.ndarray | None = None
    colour: np.ndarray | None = None
    #: per knot the largest value of every encoded coordinate, and the smallest visible energy
    #: ``log(E_vis / E)``, over the training showers in the knot's reach (:meth:`clip`)
    x_max: np.ndarray | None = None
    vis_min: np.ndarray | None = None

    @property
    def dim(self) -> int:
        return int(self.mean.shape[1])

    def moments(self, log_e) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)``, each ``(n, dim)``, at the log incident energies ``log_e``."""
        w = hat_weights(log_e, self.knots)
        return w @ self.mean, w @ self.std

    def standardise(self, x, log_e) -> np.ndarray:
        """Encoded showers (:func:`encode`) to the network's coordinates: standardised at their
        energies, then whitened (when :attr:`whiten` is set)."""
        mean, std = self.moments(log_e)
        z = (np.asarray(x, dtype=np.float64) - mean) / std
        return z if self.whiten is None else z @ self.whiten

    def destandardise(self, z, log_e) -> np.ndarray:
        """The inverse of :meth:`standardise`."""
        mean, std = self.moments(log_e)
        z = np.asarray(z, dtype=np.float64)
        return (z if self.colour is None else z @ self.colour) * std + mean

    def clip(self, x, log_e) -> np.ndarray:
        """Encoded showers held inside the training's range at their energies: every coordinate
        at most its largest training value, the visible energy at least its smallest (piecewise
        linear between the knots). Why: the flow's samples have tails the showers do not; at
        65 GeV the outer rings' 99.9th percentile came out at 1.2–3.9 GeV where the truth's is
        39–91 MeV, and those few set the spread of the shower centres (four to five times the
        truth's; cls-high S² up to 0.36 on the centres alone)."""
        if self.x_max is None:
            return x
        w = hat_weights(log_e, self.knots)
        x = np.minimum(x, w @ self.x_max)
        x[:, -1] = np.maximum(x[:, -1], w @ self.vis_min)
        return x

    def arrays(self) -> list[np.ndarray]:
        scalars = np.array([self.c_mean, self.c_std, self.e_min])
        optional = (self.hit_fraction, self.whiten, self.x_max, self.vis_min)
        return [self.knots, self.mean, self.std, scalars, *(a for a in optional if a is not None)]

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def standardisation(
    data: ShowerSlices, zero_width: float, zero_gap: float = 0.0
) -> FlowStandardisation:
    """Two streaming passes (the incident energies, then the showers): the knots, and at each
    knot the least-squares mean and second moment of every encoded coordinate on the hat basis
    (an empty voxel counted as the uniform slab on ``[-g - w, -g)``: mean ``-(g + w/2)``,
    second moment ``g² + g w + w²/3``), exactly, whatever the dequantisation draws; and the
    smallest hit energy ``e_min``."""
    log_e = np.concatenate([np.log(data.read_energies(p) * 1e3) for p in data.parts])
    n = len(log_e)
    if n < 2:
        raise ValueError("the training sample holds fewer than 2 showers")
    kn = knots(log_e)
    e_min = math.inf
    gram = ones = hits = log1 = log2 = x_max = vis_min = None
    for e, showers in data:
        s = np.asarray(showers, dtype=np.float64).reshape(len(e), -1)
        hit = s > 0
        logs = np.log(np.where(hit, s, 1.0))
        e_vis = np.log(np.maximum(s.sum(1), 1e-3) / (e * 1e3))
        logs = np.concatenate([logs, e_vis[:, None]], axis=1)
        hit = np.concatenate([hit, np.ones((len(e), 1), bool)], axis=1)
        w = hat_weights(np.log(e * 1e3), kn)
        if gram is None:
            gram, ones = np.zeros((len(kn), len(kn))), np.zeros(len(kn))
            hits, log1, log2 = (np.zeros((len(kn), logs.shape[1])) for _ in range(3))
            x_max = np.full((len(kn), logs.shape[1]), -np.inf)
            vis_min = np.full(len(kn), np.inf)
        for k in range(len(kn)):
            reach = w[:, k] > 1e-6  # (a shower at a knot: rounding leaves ~1e-16 next door)
            if reach.any():
                x_max[k] = np.maximum(x_max[k], np.where(hit, logs, -np.inf)[reach].max(0))
                vis_min[k] = min(vis_min[k], float(logs[reach, -1].min()))
        gram += w.T @ w
        ones += w.sum(0)
        hits += w.T @ hit
        log1 += w.T @ (logs * hit)
        log2 += w.T @ (logs**2 * hit)
        if hit[:, :-1].any():
            e_min = min(e_min, float(s[s > 0].min()))
    if not math.isfinite(e_min):
        raise ValueError("the training showers hold no hit voxel")
    # shift the voxels' log energies to log(E_i / e_min); the last coordinate stays as it is
    a = np.full(hits.shape[1], math.log(e_min))
    a[-1] = 0.0
    zeros = ones[:, None] - hits
    wz, g = float(zero_width), float(zero_gap)
    b1 = log1 - a * hits - zeros * (g + wz / 2)
    b2 = log2 - 2 * a * log1 + a**2 * hits + zeros * (g**2 + g * wz + wz**2 / 3)
    mean = np.linalg.lstsq(gram, b1, rcond=None)[0]
    second = np.linalg.lstsq(gram, b2, rcond=None)[0]
    fraction = np.clip(np.linalg.lstsq(gram, hits[:, :-1], rcond=None)[0], 0.0, 1.0)
    std = np.sqrt(np.maximum(second - mean**2, 0.0))
    std[std < 1e-6] = 1.0
    c_mean = float(log_e.mean())
    c_std = float(log_e.std())
    c_std = c_std if c_std > 1e-9 else 1.0
    # a voxel never hit within a knot's reach: at most the slab's top (it stays empty)
    x_max = np.where(np.isfinite(x_max), x_max - a, -float(zero_gap))
    return FlowStandardisation(
        kn, mean, std, c_mean, c_std, e_min, n, fraction, x_max=x_max, vis_min=vis_min
    )


def whitening(
    data: ShowerSlices, stats: FlowStandardisation, zero_width: float, zero_gap: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(C^(-1/2), C^(1/2))`` of the correlation matrix C of the coordinates standardised at
    their energies (one more streaming pass), in its expectation over the dequantisation: an
    empty voxel at the slab's mean, plus the slab's variance ``w²/12`` (over the voxel's
    variance at that energy) on the diagonal; symmetric (ZCA) roots, so that each whitened
    coordinate stays mostly its voxel, with eigenvalues held above 1e-6 of the largest.

    Why it was tried: a shower's voxels move together (its depth, its energy), and the flow's
    shower centres in η and φ spread far more than the truth's (S² 0.2–0.36 at 16 and 65 GeV on
    20,000 showers, the VAE's < 0.02); whitened, the flow would start from a Gaussian with the
    collective modes. It did not help (judge AUC 0.974 whitened vs 0.975 on 20,000 showers, 0.981
    vs 0.972 on 3,000): the correlations are mild (eigenvalues 0.3–27 on 369 coordinates), and
    much of the centres' spread came from outliers, which :meth:`FlowStandardisation.clip`
    removes. Off by default (``whiten``)."""
    dim = stats.dim
    slab_mean = -(float(zero_gap) + float(zero_width) / 2)
    slab_var = float(zero_width) ** 2 / 12
    second = np.zeros((dim, dim))
    diag = np.zeros(dim)
    for e, showers in data:
        zeros = np.full((len(e), dim - 1), -slab_mean)
        x, log_e = encode(e, showers, stats.e_min, zeros)
        mean, std = stats.moments(log_e)
        z = (x - mean) / std
        second += z.T @ z
        empty = np.concatenate([showers.reshape(len(e), -1) <= 0, np.zeros((len(e), 1), bool)], 1)
        diag += (empty * slab_var / std**2).sum(0)
    cov = (second + np.diag(diag)) / stats.n
    values, vectors = np.linalg.eigh(cov)
    values = np.maximum(values, 1e-6 * values.max())
    whiten = (vectors / np.sqrt(values)) @ vectors.T
    colour = (vectors * np.sqrt(values)) @ vectors.T
    return whiten, colour


def _embedding(t, c):
    """Fourier features of the time ``t`` (n,) and the condition ``c`` (n, 1)."""
    f = torch.as_tensor(_FREQUENCIES, dtype=t.dtype, device=t.device) * math.pi
    a = t[:, None] * f
    return torch.cat([torch.sin(a), torch.cos(a), c], dim=1)


class VelocityField(nn.Module):
    """``v(x, t, c)``: an MLP whose every hidden layer also gets the embedding of (t, c), plus a
    per-coordinate term ``a(t, c) x + b(t, c)`` (``a``, ``b`` linear in the embedding, zero at
    the start). Why the linear term: for standardised data the best Gaussian velocity is linear in
    x with a time-dependent slope, which a hidden layer narrower than the showers' coordinates
    cannot pass through; the network then learns only what is not Gaussian."""

    def __init__(self, dim: int, hidden: tuple[int, ...]):
        super().__init__()
        n_emb = 2 * len(_FREQUENCIES) + 1
        widths = [dim, *hidden]
        pairs = zip(widths[:-1], widths[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        self.conditions = nn.ModuleList(nn.Linear(n_emb, h) for h in hidden)
        self.out = nn.Linear(widths[-1], dim)
        self.linear = nn.Linear(n_emb, 2 * dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.act = nn.SiLU()

    def forward(self, x, t, c):
        emb = _embedding(t, c)
        h = x
        for layer, cond in zip(self.layers, self.conditions, strict=True):
            h = self.act(layer(h) + cond(emb))
        a, b = self.linear(emb).chunk(2, dim=1)
        return self.out(h) + a * x + b


def integrate(velocity, x, c, *, steps: int, solver: str):
    """``x`` (noise at t = 0) carried to t = 1 along ``velocity(x, t, c)`` in ``steps`` equal
    steps of ``solver`` (:data:`SOLVERS`)."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown ODE solver {solver!r}: one of {list(SOLVERS)}")
    dt = 1.0 / int(steps)
    ones = torch.ones(len(x), dtype=x.dtype, device=x.device)
    for k in range(int(steps)):
        t = ones * (k * dt)
        if solver == "euler":
            x = x + dt * velocity(x, t, c)
        elif solver == "midpoint":
            x_mid = x + 0.5 * dt * velocity(x, t, c)
            x = x + dt * velocity(x_mid, t + 0.5 * dt, c)
        else:  # heun
            k1 = velocity(x, t, c)
            k2 = velocity(x + dt * k1, t + dt, c)
            x = x + 0.5 * dt * (k1 + k2)
    return x


class FlowTrainer(checkpoint.Resumable):
    """A conditional flow-matching model's training on a sample's showers, with exact
    checkpoint/resume (the interface of :class:`.learned.VAETrainer`)."""

    def __init__(self, data: ShowerSlices, cfg: FlowConfig, *, seed: int, device: str = "cpu"):
        self.data, self.cfg, self.seed, self.device = data, cfg, int(seed), device
        self.stats = standardisation(data, cfg.zero_width, cfg.zero_gap)
        if cfg.whiten:
            self.stats.whiten, self.stats.colour = whitening(
                data, self.stats, cfg.zero_width, cfg.zero_gap
            )
        self.dim = self.stats.dim
        torch.manual_seed(seed)  # the initial weights
        self.net = VelocityField(self.dim, cfg.hidden).to(device)
        self.opt = adam(self.net.parameters(), lr=cfg.lr)
        self.epoch = 0
        self.history: list[float] = []
        self.fingerprint = checkpoint.fingerprint(
            {
                "model": "flow",
                "engine": ENGINE,
                "config": asdict(self.cfg),
                "seed": self.seed,
                "device": device,
                "torch": torch.__version__,
                "n": self.stats.n,
            },
            *self.stats.arrays(),
        )

    def _lr(self, step: int) -> float:
        """Cosine decay from ``lr`` to 0 over the configured epochs."""
        total = self.cfg.epochs * len(self.data.parts)
        return 0.5 * self.cfg.lr * (1.0 + math.cos(math.pi * min(step / total, 1.0)))

    def batch(self, e, showers, rng: np.random.Generator):
        """One batch's standardised showers ``x_1``, noise ``x_0``, times and condition."""
        n = len(e)
        zeros = self.cfg.zero_gap + rng.random((n, self.dim - 1)) * self.cfg.zero_width
        x, c = encode(e, showers, self.stats.e_min, zeros)
        x1 = torch.as_tensor(self.stats.standardise(x, c), dtype=torch.float32, device=self.device)
        x0 = torch.as_tensor(rng.standard_normal(x1.shape, dtype=np.float32), device=self.device)
        t = torch.as_tensor(rng.random(n, dtype=np.float32), device=self.device)
        c = torch.as_tensor((c - self.stats.c_mean) / self.stats.c_std, dtype=torch.float32)
        return x1, x0, t, c[:, None].to(self.device)

    def loss(self, x1, x0, t, c):
        """The flow-matching loss: mean squared error of the velocity on the straight path."""
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        return ((self.net(xt, t, c) - (x1 - x0)) ** 2).mean()

    def train_epoch(self) -> None:
        """One pass over the training slices in an order drawn from (seed, epoch)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.data.parts))
        total = 0.0
        for j, k in enumerate(order):
            x1, x0, t, c = self.batch(*self.data.read(self.data.parts[k]), rng)
            for g in self.opt.param_groups:
                g["lr"] = self._lr(self.epoch * len(order) + j)
            loss = self.loss(x1, x0, t, c)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the flow's loss is {float(loss.detach())} at epoch {self.epoch}: lower "
                    "calorimeter.trained.flow.lr"
                )
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 10.0)
            self.opt.step()
            total += float(loss.detach()) * len(x1)
        self.epoch += 1
        self.history.append(total / self.data.n)

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "epoch": self.epoch,
            "net": self.net.state_dict(),
            "opt": self.opt.state_dict(),
            "history": np.asarray(self.history, dtype=np.float64),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["fingerprint"] != self.fingerprint:
            raise ValueError("checkpoint belongs to different hyper-parameters, data or seeds")
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.epoch = int(state["epoch"])
        self.history = [float(v) for v in np.asarray(state["history"])]

    def generator(self) -> FlowGenerator:
        """The trained velocity field with its standardisation, ready to generate; its hit
        boundaries calibrated (:meth:`FlowGenerator.calibrate`, ``hit_calibration`` showers per
        knot from a stream of the training's seed) unless that is 0."""
        gen = FlowGenerator(self.net, self.stats, self.cfg)
        if self.cfg.hit_calibration:
            rng = np.random.default_rng([self.seed, self.cfg.epochs, 1])
            gen.calibrate(self.stats.hit_fraction, rng, self.cfg.hit_calibration)
        return gen


def train(
    trainer: FlowTrainer,
    *,
    checkpoint_path=None,
    checkpoint_every: int = 50,
    should_stop: Callable[[], bool] = lambda: False,
    log_every: int = 50,
) -> FlowTrainer:
    """Run ``trainer`` to its configured epochs, checkpointing on the way (as
    :func:`.learned.train`)."""
    epochs = trainer.cfg.epochs

    def log_epoch(e: int) -> None:
        if log_every and (e % log_every == 0 or e == epochs):
            log.info("epoch %d/%d: flow-matching loss %.4f", e, epochs, trainer.history[-1])

    return checkpoint.run_epochs(
        trainer,
        epochs,
        checkpoint_path=checkpoint_path,
        checkpoint_every=checkpoint_every,
        should_stop=should_stop,
        on_epoch=log_epoch,
    )


class FlowGenerator:
    """Showers from a trained velocity field: :meth:`generate` for given incident energies.

    ``boundaries`` (one row per knot of the standardisation, one column per voxel), when set by
    :meth:`calibrate`, replace the gap's middle as the hit boundary of each voxel, piecewise
    linear in log E between the knots."""

    def __init__(self, net, stats: FlowStandardisation, cfg: FlowConfig, boundaries=None):
        self.net, self.stats, self.cfg = net.eval(), stats, cfg
        self.boundaries = None if boundaries is None else np.asarray(boundaries, np.float64)

    def sample(self, energies_gev, rng: np.random.Generator, steps=None) -> np.ndarray:
        """Encoded showers (:func:`encode`'s ``x``, not standardised) for ``energies_gev``: the
        starting noise drawn from ``rng``, carried along ``steps`` ODE steps (default: the
        configured ``steps``)."""
        steps = self.cfg.steps if steps is None else int(steps)
        e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
        p = next(self.net.parameters())
        x0 = rng.standard_normal((len(e), self.stats.dim), dtype=np.float32)
        log_e = np.log(e * 1e3)
        c = ((log_e - self.stats.c_mean) / self.stats.c_std).astype(np.float32)
        with torch.no_grad():
            x = integrate(
                self.net,
                torch.as_tensor(x0, device=p.device),
                torch.as_tensor(c[:, None], device=p.device),
                steps=steps,
                solver=self.cfg.solver,
            )
        return self.stats.clip(self.stats.destandardise(x.double().cpu().numpy(), log_e), log_e)

    def boundary(self, energies_gev):
        """The hit boundary of every voxel at ``energies_gev``: ``(n, voxels)`` when calibrated,
        else the gap's middle."""
        if self.boundaries is None:
            return -0.5 * self.cfg.zero_gap
        log_e = np.log(np.asarray(energies_gev, dtype=np.float64).reshape(-1) * 1e3)
        return hat_weights(log_e, self.stats.knots) @ self.boundaries

    def generate(
        self, energies_gev, rng: np.random.Generator, shape, batch: int = 1000, steps=None
    ):
        """Showers ``(n, *shape)`` MeV for ``energies_gev``; the starting noise is drawn from
        ``rng``; ``steps`` ODE steps (default: the configured ``steps``)."""
        e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
        out = np.empty((len(e), *shape), dtype=np.float32)
        for lo in range(0, len(e), batch):
            eb = e[lo : lo + batch]
            x = self.sample(eb, rng, steps)
            showers = decode(x, eb, self.stats.e_min, self.boundary(eb))
            out[lo : lo + len(eb)] = showers.reshape(len(eb), *shape)
        return out

    def calibrate(self, hit_fraction, rng: np.random.Generator, n: int, batch: int = 1000):
        """Set each voxel's hit boundary at each knot so that ``n`` showers generated at the
        knot's energy are hit as often as the training showers were there (``hit_fraction``,
        knots × voxels: :class:`FlowStandardisation`'s): the boundary at the (1 − fraction)
        quantile of the voxel's generated values, halfway between the order statistics that
        straddle it. Which showers are hit still follows the flow's values (their ranks, hence
        the correlations); only the occupancy per voxel and energy is the training's."""
        fraction = np.asarray(hit_fraction, dtype=np.float64)
        rows = []
        for log_e in self.stats.knots:
            e = np.full(int(n), math.exp(log_e) * 1e-3)
            x = np.concatenate([self.sample(e[lo : lo + batch], rng) for lo in range(0, n, batch)])
            rows.append(_quantile_boundaries(x[:, :-1], fraction[len(rows)]))
        self.boundaries = np.array(rows)

    def state(self) -> dict:
        """What :meth:`from_state` needs: the network's weights, the standardisation, the
        config and the hit boundaries; ``model`` tells the VAE's files from these."""
        return {
            "model": "flow",
            "config": asdict(self.cfg),
            "net": {k: v.cpu() for k, v in self.net.state_dict().items()},
            "stats": self.stats.as_dict(),
            "boundaries": self.boundaries,
        }

    @classmethod
    def from_state(cls, state: dict) -> FlowGenerator:
        cfg = FlowConfig.from_config(state["config"])
        stats = FlowStandardisation(**state["stats"])
        net = VelocityField(stats.dim, cfg.hidden)
        net.load_state_dict(state["net"])
        return cls(net, stats, cfg, state.get("boundaries"))


def _quantile_boundaries(x, fraction) -> np.ndarray:
    """Per column of ``x`` (n, voxels) the value above which a ``fraction`` of its entries lie:
    halfway between the straddling order statistics; below (above) every entry for a fraction of
    1 (0)."""
    xs = np.sort(x, axis=0)
    n = len(xs)
    k = np.clip(np.rint((1.0 - np.asarray(fraction)) * n).astype(int), 0, n)
    cols = np.arange(xs.shape[1])
    below = xs[np.maximum(k - 1, 0), cols]
    above = xs[np.minimum(k, n - 1), cols]
    b = 0.5 * (below + above)
    b = np.where(k == 0, xs[0] - 1.0, b)
    return np.where(k == n, xs[-1] + 1.0, b)

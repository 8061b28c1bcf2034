"""A learned shower generator: a conditional variational autoencoder on voxel energies.

Why a VAE. The DCTR paper corrects a BIB-AE, an autoencoder family; CaloChallenge's VAEs sit
at a classifier AUC of ≈ 0.6–0.9, the quality people publish. Per training cost it is the cheap
end of the field: one encoder and one decoder pass per shower, no adversarial balance to tune and
no per-voxel autoregression, so one MLP serves dataset 1 (368 voxels) and dataset 2 (6,480) alike
and trains in seconds on a CPU at demo size. A normalising flow over 6,480 voxels would need a
flow per layer to be affordable; a GAN needs the tuning this project already spends on the toys.

The model. A shower of incident energy E (MeV) is ``u_i = E_i / E`` per voxel, encoded as
``x_i = log(u_i + alpha)``, standardised per voxel with the training data's mean and standard
deviation (:class:`Standardisation`, one streaming pass). The condition is standardised log E.
The decoder gives, per voxel, whether it is hit (a Bernoulli probability) and, if hit, a
Gaussian (mean and a shower-dependent spread) for its encoded energy: sparsity is learned, not
left to a cut on a blurred mean. (A cut alone fails where most voxels are empty: on ILD's 27,000
voxels the Gaussian's tail put 2,100 hits in a shower of 750, and classifiers separated the
showers perfectly.) A generated hit keeps at least the smallest hit energy of the training data,
the simulator's threshold. Loss per shower: the hit voxels' Gaussian negative log-likelihood,
every voxel's binary cross-entropy for being hit, plus ``beta`` times the KL divergence to the
unit Gaussian.

Exact resume. Every random draw (batch order, reparametrisation noise) comes from streams whose
state goes into the checkpoint with the weights and the optimiser's moments, so a killed training
continues bit for bit (:func:`train`). Training data are read slice by slice from the shower files
(:mod:`.streaming`): a data set is never held in memory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import h5py
import numpy as np
import torch
import torch.nn as nn

from ..core import checkpoint
from ..core.nets import adam
from . import formats
from .streaming import Slice, read_slice, slices

log = logging.getLogger("ganplify")

#: Part of every checkpoint's fingerprint: bump it when the order of random draws or the
#: arithmetic changes, so that no checkpoint of an older engine continues under a newer one.
ENGINE = 2


@dataclass(frozen=True)
class VAEConfig:
    """The generator's architecture and training (``calorimeter.trained``)."""

    latent_dim: int = 32
    hidden: tuple[int, ...] = (512, 512)
    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    alpha: float = 1e-2

    @classmethod
    def from_config(cls, cfg) -> VAEConfig:
        known = set(cls.__dataclass_fields__)
        d = {k: v for k, v in dict(cfg).items() if k in known}
        if "hidden" in d:
            d["hidden"] = tuple(int(h) for h in d["hidden"])
        return cls(**d)


@dataclass
class Standardisation:
    """Per-voxel mean and standard deviation of the encoded showers, of the condition, and the
    smallest non-zero voxel fraction (below it a decoded voxel is empty)."""

    mean: np.ndarray
    std: np.ndarray
    c_mean: float
    c_std: float
    e_min: float
    n: int = 0
    extras: dict = field(default_factory=dict)

    def arrays(self) -> list[np.ndarray]:
        return [self.mean, self.std, np.array([self.c_mean, self.c_std, self.e_min, self.n])]


def encode(energies_gev, showers_mev, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x, log E/MeV)``: per shower the encoded voxel fractions ``log(E_i / E_vis + alpha)``
    and, last, ``log(E_vis / E)`` (n, voxels + 1); and the log incident energy (n,)."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1) * 1e3
    s = np.asarray(showers_mev, dtype=np.float64).reshape(len(e), -1)
    # an empty shower (a tiny incident energy) keeps a visible energy of 1 keV: log stays finite
    e_vis = np.maximum(s.sum(1), 1e-3)
    x = np.log(s / e_vis[:, None] + alpha)
    return np.concatenate([x, np.log(e_vis / e)[:, None]], axis=1), np.log(e)


def decode(x, energies_gev, alpha: float, e_min: float, hits=None) -> np.ndarray:
    """Voxel energies (MeV, float32) from encoded showers (:func:`encode`). Without ``hits``,
    voxels below ``e_min`` MeV are empty; with ``hits`` (a boolean array, one per voxel) just
    those voxels are hit, each with at least ``e_min``. The hits share the decoded visible
    energy."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1) * 1e3
    x = np.asarray(x, dtype=np.float64)
    e_vis = (e * np.exp(x[:, -1]))[:, None]
    u = np.maximum(np.exp(x[:, :-1]) - alpha, 0.0)
    if hits is None:
        # cut before normalising: the cut voxels' share goes to the hits, E_vis stays as decoded
        u[u * e_vis < e_min] = 0.0
    else:
        u = np.where(hits, np.maximum(u, e_min / e_vis), 0.0)
    total = u.sum(1, keepdims=True)
    u = np.divide(u, total, out=np.zeros_like(u), where=total > 0)
    return (u * e_vis).astype(np.float32)


class ShowerSlices:
    """Slices of a sample's shower files, read as ``(energies GeV, showers MeV)``; each file is
    opened once."""

    def __init__(
        self,
        segments: Sequence[tuple[str, str, int, int]],
        size: int,
        keep: np.ndarray | None = None,
    ):
        self.parts: list[Slice] = slices(segments, size, keep)
        self.files: dict[str, h5py.File] = {}

    @property
    def n(self) -> int:
        return sum(s.n for s in self.parts)

    def _file(self, s: Slice) -> h5py.File:
        f = self.files.get(s.path)
        if f is None:
            f = self.files[s.path] = h5py.File(s.path, "r")
        return f

    def read_energies(self, s: Slice) -> np.ndarray:
        """The slice's kept incident energies (GeV) alone."""
        e_name, _ = formats.dataset_names(s.format)
        scale = 1e-3 if s.format == formats.CALOCHALLENGE else 1.0
        e = np.asarray(self._file(s)[e_name][s.start : s.stop], dtype=np.float64).reshape(-1)
        if s.keep is not None:
            e = e[s.keep]
        return e * scale

    def read(self, s: Slice) -> tuple[np.ndarray, np.ndarray]:
        scale = 1e-3 if s.format == formats.CALOCHALLENGE else 1.0
        e, showers = read_slice(self._file(s), s)
        return np.asarray(e, dtype=np.float64).reshape(-1) * scale, showers

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for s in self.parts:
            yield self.read(s)

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files = {}


class ResampledShowers:
    """A bootstrap resample of a sample held in memory, in the shape of :class:`ShowerSlices`
    (``parts``, ``read``, ``n``, iteration): the showers ``index`` (with repeats) of
    ``(energies GeV, showers MeV)``, cut into consecutive parts of ``size`` — so that a
    :class:`VAETrainer` trains on the resample as it trains on files (an ensemble member of the
    amplification forecast, :mod:`ganplify.jobs.calo_forecast`)."""

    def __init__(self, energies, showers, index, size: int):
        self.energies = np.asarray(energies, dtype=np.float64).reshape(-1)
        self.showers = np.asarray(showers, dtype=np.float32)
        index = np.asarray(index, dtype=np.int64)
        self.parts = [index[lo : lo + int(size)] for lo in range(0, len(index), int(size))]

    @property
    def n(self) -> int:
        return sum(len(p) for p in self.parts)

    def read(self, part) -> tuple[np.ndarray, np.ndarray]:
        return self.energies[part], self.showers[part]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for p in self.parts:
            yield self.read(p)

    def close(self) -> None:
        pass


def standardisation(data: ShowerSlices, alpha: float) -> Standardisation:
    """One streaming pass: the encoded voxels' and the condition's mean and standard deviation."""
    s1 = s2 = None
    c1 = c2 = 0.0
    n, e_min = 0, math.inf
    for e, showers in data:
        x, c = encode(e, showers, alpha)
        s1 = x.sum(0) if s1 is None else s1 + x.sum(0)
        s2 = (x**2).sum(0) if s2 is None else s2 + (x**2).sum(0)
        c1, c2, n = c1 + c.sum(), c2 + (c**2).sum(), n + len(c)
        hits = showers[showers > 0]
        if hits.size:
            e_min = min(e_min, float(hits.min()))
    if n < 2:
        raise ValueError("the training sample holds fewer than 2 showers")
    mean = s1 / n
    std = np.sqrt(np.maximum(s2 / n - mean**2, 0.0))
    c_mean = c1 / n
    c_std = math.sqrt(max(c2 / n - c_mean**2, 0.0))
    # an always-empty voxel, or a single incident energy, has no spread: keep the scale at 1
    std[std < 1e-6] = 1.0
    return Standardisation(mean, std, c_mean, c_std if c_std > 1e-9 else 1.0, e_min, n)


class Decoder(nn.Module):
    """Latent + condition → per encoded output the mean and log standard deviation of its
    Gaussian (the spread depends on the shower: the energy resolution on the incident energy,
    above all) and the logit of its being hit."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, h):
        mean, log_sigma, logit = self.net(h).chunk(3, dim=1)
        # bounded (in units of the voxel's standard deviation): a vanishing spread on a nearly
        # constant voxel makes the likelihood unbounded and the training diverge
        return mean, log_sigma.clamp(-3.0, 2.0), logit


def build(n_voxels: int, cfg: VAEConfig):
    """The encoder (encoded shower + condition → 2 × latent) and the :class:`Decoder` (latent +
    condition → per encoded output, the voxel fractions and, last, log(E_vis / E): Gaussian and
    hit logit)."""

    def mlp(n_in, n_out):
        layers, width = [], n_in
        for h in cfg.hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        return nn.Sequential(*layers, nn.Linear(width, n_out))

    n_out = n_voxels + 1
    return mlp(n_out + 1, 2 * cfg.latent_dim), Decoder(mlp(cfg.latent_dim + 1, 3 * n_out))


class VAETrainer(checkpoint.Resumable):
    """A conditional VAE's training on a sample's showers, with exact checkpoint/resume."""

    def __init__(self, data: ShowerSlices, cfg: VAEConfig, *, seed: int, device: str = "cpu"):
        import torch

        self.data, self.cfg, self.seed, self.device = data, cfg, int(seed), device
        self.stats = standardisation(data, cfg.alpha)
        self.n_voxels = int(self.stats.mean.shape[0]) - 1
        torch.manual_seed(seed)  # the initial weights
        self.encoder, self.decoder = (m.to(device) for m in build(self.n_voxels, cfg))
        self._params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.opt = adam(self._params, lr=cfg.lr)
        self.noise = torch.Generator(device=device).manual_seed(seed)
        self.epoch = 0
        self.history: list[tuple[float, float]] = []
        self._mean = torch.as_tensor(self.stats.mean, dtype=torch.float32, device=device)
        self._std = torch.as_tensor(self.stats.std, dtype=torch.float32, device=device)
        self.fingerprint = checkpoint.fingerprint(
            {
                "engine": ENGINE,
                "config": asdict(self.cfg),
                "seed": self.seed,
                "device": device,
                "torch": torch.__version__,
                "n": self.stats.n,
            },
            *self.stats.arrays(),
        )

    def _inputs(self, e, showers):
        import torch

        x, c = encode(e, showers, self.cfg.alpha)
        # the last output, the visible energy, is always "hit"
        hit = np.concatenate([showers.reshape(len(e), -1) > 0, np.ones((len(e), 1), bool)], 1)
        x = torch.as_tensor(x, dtype=torch.float32, device=self.device)
        c = torch.as_tensor(c, dtype=torch.float32, device=self.device) - self.stats.c_mean
        hit = torch.as_tensor(hit, dtype=torch.float32, device=self.device)
        return (x - self._mean) / self._std, (c / self.stats.c_std)[:, None], hit

    def loss(self, x, c, hit):
        """Mean over showers of the reconstruction (the hits' Gaussian and every output's hit
        cross-entropy) and KL terms (each returned)."""
        import torch

        h = self.encoder(torch.cat([x, c], dim=1))
        mu, log_var = h.chunk(2, dim=1)
        log_var = log_var.clamp(-12.0, 6.0)  # exp() of an unbounded output overflows the KL
        eps = torch.randn(mu.shape, generator=self.noise, device=self.device)
        z = mu + eps * torch.exp(0.5 * log_var)
        x_hat, log_sigma, logit = self.decoder(torch.cat([z, c], dim=1))
        gauss = 0.5 * ((x_hat - x) * torch.exp(-log_sigma)) ** 2 + log_sigma
        bce = nn.functional.binary_cross_entropy_with_logits(logit, hit, reduction="none")
        rec = (gauss * hit + bce).sum(1).mean()
        kl = 0.5 * (mu**2 + log_var.exp() - 1.0 - log_var).sum(1).mean()
        return rec, kl

    def train_epoch(self) -> None:
        """One pass over the training slices in an order drawn from (seed, epoch)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        rec_sum = kl_sum = 0.0
        for k in rng.permutation(len(self.data.parts)):
            x, c, hit = self._inputs(*self.data.read(self.data.parts[k]))
            rec, kl = self.loss(x, c, hit)
            self.opt.zero_grad(set_to_none=True)
            loss = rec + self.cfg.beta * kl
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the VAE's loss is {float(loss.detach())} at epoch {self.epoch}: lower "
                    "calorimeter.trained.lr or raise alpha"
                )
            loss.backward()
            # a rare large step (a batch of near-empty low-energy showers) would derail Adam
            torch.nn.utils.clip_grad_norm_(self._params, 100.0)
            self.opt.step()
            rec_sum += float(rec.detach()) * len(x)
            kl_sum += float(kl.detach()) * len(x)
        self.epoch += 1
        self.history.append((rec_sum / self.data.n, kl_sum / self.data.n))

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "epoch": self.epoch,
            "encoder": self.encoder.state_dict(),
            "decoder": self.decoder.state_dict(),
            "opt": self.opt.state_dict(),
            "noise": self.noise.get_state(),
            "history": np.asarray(self.history, dtype=np.float64).reshape(-1, 2),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["fingerprint"] != self.fingerprint:
            raise ValueError("checkpoint belongs to different hyper-parameters, data or seeds")
        self.encoder.load_state_dict(state["encoder"])
        self.decoder.load_state_dict(state["decoder"])
        self.opt.load_state_dict(state["opt"])
        self.noise.set_state(state["noise"].cpu())
        self.epoch = int(state["epoch"])
        self.history = [tuple(r) for r in np.asarray(state["history"])]

    def generator(self) -> LearnedGenerator:
        """The trained decoder with its standardisation, ready to generate."""
        return LearnedGenerator(self.decoder, self.stats, self.cfg)


def train(
    trainer: VAETrainer,
    *,
    checkpoint_path=None,
    checkpoint_every: int = 50,
    should_stop: Callable[[], bool] = lambda: False,
    log_every: int = 50,
) -> VAETrainer:
    """Run ``trainer`` to its configured epochs, checkpointing on the way; resumes from
    ``checkpoint_path`` when it holds this training's state. When ``should_stop()`` turns true a
    checkpoint is saved and :class:`ganplify.core.runtime.Preempted` raised."""
    epochs = trainer.cfg.epochs

    def log_epoch(e: int) -> None:
        if log_every and (e % log_every == 0 or e == epochs):
            rec, kl = trainer.history[-1]
            log.info("epoch %d/%d: reconstruction %.3f, KL %.3f", e, epochs, rec, kl)

    return checkpoint.run_epochs(
        trainer,
        epochs,
        checkpoint_path=checkpoint_path,
        checkpoint_every=checkpoint_every,
        should_stop=should_stop,
        on_epoch=log_epoch,
    )


class LearnedGenerator:
    """Showers from a trained decoder: :meth:`generate` for given incident energies."""

    def __init__(self, decoder, stats: Standardisation, cfg: VAEConfig):
        self.decoder, self.stats, self.cfg = decoder.eval(), stats, cfg

    def generate(self, energies_gev, rng: np.random.Generator, shape, batch: int = 1000):
        """Showers ``(n, *shape)`` MeV for ``energies_gev``; the latents, the hits and the hits'
        energies are drawn from ``rng``."""
        import torch

        e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
        out = np.empty((len(e), *shape), dtype=np.float32)
        p = next(self.decoder.parameters())
        for lo in range(0, len(e), batch):
            eb = e[lo : lo + batch]
            z = rng.standard_normal((len(eb), self.cfg.latent_dim)).astype(np.float32)
            c = ((np.log(eb * 1e3) - self.stats.c_mean) / self.stats.c_std).astype(np.float32)
            inp = torch.as_tensor(np.concatenate([z, c[:, None]], axis=1), device=p.device)
            with torch.no_grad():
                mean, log_sigma, logit = self.decoder(inp)
                x, sigma = mean.double().cpu().numpy(), log_sigma.exp().double().cpu().numpy()
                p_hit = torch.sigmoid(logit[:, :-1]).double().cpu().numpy()
            x = (x + sigma * rng.standard_normal(x.shape)) * self.stats.std + self.stats.mean
            hits = rng.random(p_hit.shape) < p_hit
            showers = decode(x, eb, self.cfg.alpha, self.stats.e_min, hits=hits)
            out[lo : lo + len(eb)] = showers.reshape(len(eb), *shape)
        return out

    def state(self) -> dict:
        """What :meth:`from_state` needs: the decoder's weights, the standardisation, the config."""
        s = self.stats
        return {
            "config": asdict(self.cfg),
            "decoder": {k: v.cpu() for k, v in self.decoder.state_dict().items()},
            "stats": {
                "mean": s.mean,
                "std": s.std,
                "c_mean": s.c_mean,
                "c_std": s.c_std,
                "e_min": s.e_min,
                "n": s.n,
            },
        }

    @classmethod
    def from_state(cls, state: dict) -> LearnedGenerator:
        cfg = VAEConfig.from_config(state["config"])
        stats = Standardisation(**state["stats"])
        _, decoder = build(len(stats.mean) - 1, cfg)
        decoder.load_state_dict(state["decoder"])
        return cls(decoder, stats, cfg)

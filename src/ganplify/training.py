"""Training K GANs as one batched model, with exact checkpoint/resume.

The recipe is the paper's (arXiv:2008.06545, Sec. 2; SPEC §1.5): strictly alternating D and G steps,
Adam(lr, β), lr × decay every ``lr_decay_every`` epochs, data reshuffled every epoch, uniform noise
on the real data in every discriminator evaluation, and a gradient penalty of strength γ.

Interpretations (the paper does not spell these out):

- Gradient penalty "[54] with γ": the regulariser of Roth et al. 2017 (arXiv:1705.09367) used by
  the same group, (γ/2)·(E_real[(1 − D)² |∇φ|²] + E_fake[D² |∇φ|²]) with φ the logit; the gradient
  is taken with respect to the batch fed to the discriminator.
- Losses: binary cross-entropy for D, the non-saturating −log D(G(z)) for G.
- Each D step and each G step draws a fresh generated batch of the batch size.
- Dropout stays active in every evaluation, training and generation alike.

The loss is summed over members; since no operation mixes members, each member's gradients are
exactly its own and Adam (element-wise) updates each member as if it were trained alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .models import Discriminator, GanArchitecture, Generator, MemberStreams, init_members

log = logging.getLogger("ganplify.training")


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings (the paper's values are the defaults)."""

    epochs: int = 10_000
    batch_size: int = 10
    lr: float = 5e-5
    betas: tuple[float, float] = (0.5, 0.9)
    lr_decay: float = 0.9
    lr_decay_every: int = 1000
    data_noise: float = 0.1
    gamma: float = 0.01

    @classmethod
    def from_config(cls, cfg: dict) -> TrainingConfig:
        return cls(
            epochs=int(cfg["epochs"]),
            batch_size=int(cfg["batch_size"]),
            lr=float(cfg["lr"]),
            betas=tuple(float(b) for b in cfg["betas"]),
            lr_decay=float(cfg["lr_decay"]),
            lr_decay_every=int(cfg["lr_decay_every"]),
            data_noise=float(cfg["data_noise"]),
            gamma=float(cfg["gamma"]),
        )

    def lr_at(self, epoch: int) -> float:
        return self.lr * self.lr_decay ** (epoch // self.lr_decay_every)


class Preempted(Exception):
    """Training stopped on request (a signal) after saving a checkpoint."""


def fingerprint(arch: GanArchitecture, train: TrainingConfig, data: np.ndarray, seeds) -> str:
    """Hash of everything that determines a training: a checkpoint resumes only if it matches."""
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {"arch": asdict(arch), "train": asdict(train), "seeds": [int(s) for s in seeds]},
            sort_keys=True,
        ).encode()
    )
    h.update(np.ascontiguousarray(data, dtype=np.float64).tobytes())
    return h.hexdigest()


class GanTrainer:
    """K GANs, each with its own data, parameters, optimizer moments and random stream.

    ``data``: array ``(K, N, dim)`` (ensemble members share one sample: pass it K times).
    ``seeds``: one integer per member; member k's initialisation, shuffles, latent noise, data
    noise and dropout masks all come from ``seeds[k]`` alone.
    """

    def __init__(
        self,
        data,
        arch: GanArchitecture,
        train: TrainingConfig,
        seeds: Sequence[int],
        device: str | torch.device = "cpu",
    ):
        data = np.asarray(data, dtype=np.float32)
        if data.ndim != 3 or data.shape[0] != len(seeds) or data.shape[2] != arch.dim:
            raise ValueError(f"data must be (K={len(seeds)}, N, dim={arch.dim}), got {data.shape}")
        if data.shape[1] % train.batch_size:
            raise ValueError(
                f"training size {data.shape[1]} is not a multiple of the batch size "
                f"{train.batch_size}"
            )
        self.arch, self.train_cfg = arch, train
        self.device = torch.device(device)
        self.fingerprint = fingerprint(arch, train, data, seeds)
        self.data = torch.as_tensor(data, device=self.device)
        self.members = len(seeds)
        self.streams = MemberStreams(seeds, self.device)
        self.G = Generator(self.members, arch).to(self.device)
        self.D = Discriminator(self.members, arch).to(self.device)
        init_members(self.G, self.streams)
        init_members(self.D, self.streams)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=train.lr, betas=train.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=train.lr, betas=train.betas)
        self.epoch = 0
        self.history: list[np.ndarray] = []  # per epoch: (2, K) mean D loss, mean G loss

    # -- random inputs, drawn in a fixed order from every member's stream -----------------------
    def _latent(self, rows: int) -> torch.Tensor:
        return 2.0 * self.streams.uniform(rows, self.arch.latent_dim) - 1.0

    def _keep(self, shape) -> torch.Tensor:
        return self.streams.uniform(*shape) >= self.arch.dropout

    def _generate(self, rows: int) -> torch.Tensor:
        z = self._latent(rows)
        return self.G(z, self._keep(self.G.mask_shape(rows)))

    # -- one step of each network ----------------------------------------------------------------
    def _d_step(self, real: torch.Tensor) -> torch.Tensor:
        t = self.train_cfg
        n = real.shape[1]
        noise = (2.0 * self.streams.uniform(n, self.arch.dim) - 1.0) * t.data_noise
        with torch.no_grad():
            fake = self._generate(n)
        # Real and generated batch in one discriminator call: sets axis 0 real, 1 generated.
        sets = torch.stack([real + noise, fake], dim=1).requires_grad_(True)
        phi = self.D(sets, self._keep(self.D.mask_shape(2 * n)))
        phi_real, phi_fake = phi[:, 0], phi[:, 1]
        loss = F.softplus(-phi_real).mean(1) + F.softplus(phi_fake).mean(1)  # BCE, per member
        if t.gamma > 0:
            (grad,) = torch.autograd.grad(phi.sum(), sets, create_graph=True)
            grad2 = grad.pow(2).sum(-1)  # (K, 2, n): |∇φ|² per point
            d = torch.sigmoid(phi)
            penalty = ((1.0 - d[:, 0]) ** 2 * grad2[:, 0]).mean(1) + (
                d[:, 1] ** 2 * grad2[:, 1]
            ).mean(1)
            loss = loss + 0.5 * t.gamma * penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.opt_d.step()
        return loss.detach()

    def _g_step(self, n: int) -> torch.Tensor:
        fake = self._generate(n)
        phi = self.D(fake[:, None], self._keep(self.D.mask_shape(n)))[:, 0]
        loss = F.softplus(-phi).mean(1)
        self.opt_g.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.opt_g.step()
        return loss.detach()

    def train_epoch(self) -> None:
        """One epoch: reshuffle, then strictly alternate one D and one G step per batch."""
        t = self.train_cfg
        lr = t.lr_at(self.epoch)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        perm = self.streams.permutations(self.data.shape[1])
        shuffled = torch.gather(self.data, 1, perm[..., None].expand(-1, -1, self.arch.dim))
        d_losses, g_losses = [], []
        for start in range(0, shuffled.shape[1], t.batch_size):
            real = shuffled[:, start : start + t.batch_size]
            d_losses.append(self._d_step(real))
            g_losses.append(self._g_step(real.shape[1]))
        self.history.append(
            torch.stack([torch.stack(d_losses).mean(0), torch.stack(g_losses).mean(0)])
            .cpu()
            .numpy()
        )
        self.epoch += 1

    # -- generation ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, streams: MemberStreams, chunk: int = 1000) -> np.ndarray:
        """``n`` events per member, dropout active (the paper's generation), shape ``(K, n, dim)``.

        ``streams`` is a generation stream per member, separate from the training streams, so
        generating more events never changes the trained model or the first events generated.
        """
        out = []
        for start in range(0, n, chunk):
            rows = min(chunk, n - start)
            z = 2.0 * streams.uniform(rows, self.arch.latent_dim) - 1.0
            keep = streams.uniform(*self.G.mask_shape(rows)) >= self.arch.dropout
            out.append(self.G(z, keep).cpu())
        return torch.cat(out, dim=1).numpy().astype(np.float64)

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "epoch": self.epoch,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "streams": self.streams.get_state(),
            "history": np.array(self.history).reshape(-1, 2, self.members),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["fingerprint"] != self.fingerprint:
            raise ValueError("checkpoint belongs to different hyper-parameters, data or seeds")
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.streams.set_state(state["streams"])
        self.epoch = int(state["epoch"])
        self.history = list(np.asarray(state["history"]))

    def save_checkpoint(self, path) -> None:
        """Write the full training state atomically (temporary file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(self.state_dict(), tmp)
        os.replace(tmp, path)

    def try_resume(self, path) -> bool:
        """Resume from ``path`` if it holds a checkpoint of this very training; else start anew."""
        path = Path(path)
        if not path.exists():
            return False
        try:
            state = torch.load(path, map_location=self.device, weights_only=False)
        except Exception as err:  # a corrupt checkpoint costs a restart, not the job
            log.warning("ignoring unreadable checkpoint %s: %s", path, err)
            return False
        if state.get("fingerprint") != self.fingerprint:
            log.warning(
                "ignoring stale checkpoint %s (hyper-parameters, data or seeds changed)", path
            )
            return False
        self.load_state_dict(state)
        log.info("resumed from %s at epoch %d", path, self.epoch)
        return True


def train(
    trainer: GanTrainer,
    *,
    checkpoint_path=None,
    checkpoint_every: int = 500,
    should_stop: Callable[[], bool] = lambda: False,
    log_every: int = 500,
) -> GanTrainer:
    """Run ``trainer`` to its configured number of epochs, checkpointing on the way.

    Resumes from ``checkpoint_path`` when it holds this training's state. When ``should_stop()``
    turns true (e.g. on SIGTERM from a scheduler), saves a checkpoint and raises :class:`Preempted`.
    """
    if checkpoint_path is not None:
        trainer.try_resume(checkpoint_path)
    epochs = trainer.train_cfg.epochs
    while trainer.epoch < epochs:
        trainer.train_epoch()
        e = trainer.epoch
        if log_every and (e % log_every == 0 or e == epochs):
            d, g = trainer.history[-1]
            log.info(
                "epoch %d/%d: D loss %.4f, G loss %.4f (mean over %d members)",
                e,
                epochs,
                d.mean(),
                g.mean(),
                trainer.members,
            )
        stop = should_stop()
        if checkpoint_path is not None and (stop or (e % checkpoint_every == 0 and e < epochs)):
            trainer.save_checkpoint(checkpoint_path)
        if stop:
            raise Preempted(f"stopped at epoch {e} on request; checkpoint {checkpoint_path}")
    return trainer

"""Training K GANs as one batched model, with exact checkpoint/resume.

The recipe is the paper's (arXiv:2008.06545, Sec. 2; docs/science.md §1.5): strictly alternating
D and G steps, Adam(lr, β), lr × decay every ``lr_decay_every`` epochs, data reshuffled every
epoch, uniform noise on the real data in every discriminator evaluation, and a gradient penalty of
strength γ.

Interpretations (the paper does not spell these out):

- Gradient penalty "[54] with γ": the regulariser of Roth et al. 2017 (arXiv:1705.09367) used by
  the same group, (γ/2)·(E_real[(1 − D)² |∇φ|²] + E_fake[D² |∇φ|²]) with φ the logit; the gradient
  is taken with respect to the batch fed to the discriminator.
- Losses: binary cross-entropy for D, the non-saturating −log D(G(z)) for G.
- Each D step and each G step draws a fresh generated batch of the batch size.
- Dropout stays active in every evaluation, training and generation alike.

The loss is summed over members; since no operation mixes members, each member's gradients are
exactly its own and Adam (element-wise) updates each member as if it were trained alone.

Speed: all random inputs of an epoch (shuffle keys, data noise, latent noise, dropout masks) are
drawn at the start of the epoch, one draw per member, into a fixed buffer; the epoch itself is
then a pure function of that buffer and the training state. On CUDA the whole epoch — 10 D and 10
G steps with their optimizer updates — is captured once as a CUDA graph and replayed, so an epoch
costs one launch from Python instead of thousands (tiny networks are launch-bound on a GPU).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..core import checkpoint
from ..core.config import from_mapping
from ..core.nets import adam
from .models import (
    Discriminator,
    GanArchitecture,
    Generator,
    MemberStreams,
    dropout_mask,
    init_members,
)

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
    #: torch's float32 matmul precision: "highest" (IEEE float32, the paper's arithmetic) or
    #: "high" (TF32 tensor cores on GPUs that have them: faster, 10-bit mantissa products).
    matmul_precision: str = "highest"

    @classmethod
    def from_config(cls, cfg: Mapping) -> TrainingConfig:
        """From the config's ``gan.training`` section."""
        return from_mapping(cls, cfg)

    def lr_at(self, epoch: int) -> float:
        return self.lr * self.lr_decay ** (epoch // self.lr_decay_every)


@contextmanager
def float32_matmul_precision(precision: str):
    """Run a block with torch's float32 matmul precision set, and restore it afterwards."""
    old = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(old)


#: Part of every checkpoint's fingerprint: bump it when the engine's order of random draws or its
#: arithmetic changes, so that no checkpoint of an older engine continues under a newer one.
ENGINE_VERSION = 2


def fingerprint(
    arch: GanArchitecture,
    train: TrainingConfig,
    data: np.ndarray,
    seeds,
    device_type: str = "cpu",
    dtype: str = "float32",
) -> str:
    """Hash of everything that determines a training: a checkpoint resumes only if it matches.

    The device type is part of it: CPU and CUDA random generators give different streams, so a
    checkpoint written on one cannot continue the same training on the other.
    """
    settings = {
        "arch": asdict(arch),
        "train": asdict(train),
        "seeds": [int(s) for s in seeds],
        "device": device_type,
        "dtype": dtype,
        "engine": ENGINE_VERSION,
    }
    return checkpoint.fingerprint(settings, data)


class _Draws:
    """Hands out consecutive blocks of an epoch's uniforms ``(K, M)`` as ``(K, *shape)`` views."""

    def __init__(self, u: torch.Tensor):
        self.u, self.used = u, 0

    def take(self, *shape: int) -> torch.Tensor:
        n = math.prod(shape)
        block = self.u[:, self.used : self.used + n]
        self.used += n
        return block.reshape(self.u.shape[0], *shape)


def generate_events(
    G: Generator,
    n: int,
    streams: MemberStreams,
    dtype=torch.float32,
    matmul_precision: str = "highest",
    chunk: int = 1000,
) -> np.ndarray:
    """``n`` events per member of the batched generator ``G``, dropout active (the paper's
    generation), shape ``(K, n, dim)``: the latent and the dropout uniforms drawn from each
    member's generation stream, chunk by chunk (a trainer's :meth:`GanTrainer.generate`, and a
    generator rebuilt from its stored weights, draw the same events from the same streams)."""
    arch, out = G.arch, []
    with float32_matmul_precision(matmul_precision):
        for start in range(0, n, chunk):
            rows = min(chunk, n - start)
            # Latent and mask uniforms as two draws (the order the quoted results used)
            z_u = streams.uniform(rows * arch.latent_dim)
            mask_u = streams.uniform(math.prod(G.mask_shape(rows)))
            draws = _Draws(torch.cat([z_u, mask_u], dim=1).to(dtype))
            z = 2.0 * draws.take(rows, arch.latent_dim) - 1.0
            mask = dropout_mask(draws.take(*G.mask_shape(rows)), arch.dropout)
            with torch.no_grad():
                out.append(G(z, mask).cpu())
    return torch.cat(out, dim=1).numpy().astype(np.float64)


class GanTrainer(checkpoint.Resumable):
    """K GANs, each with its own data, parameters, optimizer moments and random stream.

    ``data``: array ``(K, N, dim)`` (ensemble members share one sample: pass it K times).
    ``seeds``: one integer per member; member k's initialisation, shuffles, latent noise, data
    noise and dropout masks all come from ``seeds[k]`` alone.
    ``cuda_graph``: replay each epoch as a captured CUDA graph (default: on CUDA devices). The
    result equals eager execution; only the number of kernel launches from Python changes.
    ``dtype``: of parameters and computations (float64 serves the exactness tests).
    """

    def __init__(
        self,
        data,
        arch: GanArchitecture,
        train: TrainingConfig,
        seeds: Sequence[int],
        device: str | torch.device = "cpu",
        cuda_graph: bool | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 3 or data.shape[0] != len(seeds) or data.shape[2] != arch.dim:
            raise ValueError(f"data must be (K={len(seeds)}, N, dim={arch.dim}), got {data.shape}")
        if data.shape[1] % train.batch_size:
            raise ValueError(
                f"training size {data.shape[1]} is not a multiple of the batch size "
                f"{train.batch_size}"
            )
        self.arch, self.train_cfg = arch, train
        self.device = torch.device(device)
        on_cuda = self.device.type == "cuda"
        if cuda_graph and not on_cuda:
            raise ValueError(f"cuda_graph=True needs a CUDA device, not {self.device}")
        self.cuda_graph = on_cuda if cuda_graph is None else cuda_graph
        self.fingerprint = fingerprint(
            arch, train, data, seeds, self.device.type, str(dtype).removeprefix("torch.")
        )
        self.data = torch.as_tensor(data, device=self.device, dtype=dtype)
        self.members = len(seeds)
        self.streams = MemberStreams(seeds, self.device)
        self.G = Generator(self.members, arch).to(self.device, dtype)
        self.D = Discriminator(self.members, arch).to(self.device, dtype)
        init_members(self.G, self.streams)
        init_members(self.D, self.streams)
        self._g_params, self._d_params = list(self.G.parameters()), list(self.D.parameters())
        # On CUDA: the fused Adam kernel (one launch for all parameters) with the learning rate as
        # a device tensor, so that a captured graph reads the current value at every replay.
        opt_kw = {"betas": train.betas}
        if on_cuda:
            opt_kw |= {"fused": True, "capturable": True}
        self.opt_g = adam(self._g_params, lr=self._lr_value(train.lr), **opt_kw)
        self.opt_d = adam(self._d_params, lr=self._lr_value(train.lr), **opt_kw)
        self.epoch = 0
        self._history: list[np.ndarray] = []  # per epoch: (2, K) mean D loss, mean G loss
        self._pending: list[torch.Tensor] = []  # the same, not yet copied from the device
        self._u = torch.empty(
            self.members, self.uniforms_per_epoch(), device=self.device, dtype=dtype
        )
        self._graph = None
        self._graph_losses = None
        self._warmed_up = False  # an eager epoch ran in this process: libraries are initialised

    def _lr_value(self, lr: float):
        return torch.tensor(lr, device=self.device) if self.device.type == "cuda" else lr

    def uniforms_per_epoch(self) -> int:
        """How many uniforms one epoch consumes per member (drawn at once, see :meth:`_epoch`)."""
        a, n, n_train = self.arch, self.train_cfg.batch_size, self.data.shape[1]
        generated = n * a.latent_dim + a.g_layers * n * a.g_hidden  # latent + G masks
        d_step = n * a.dim + generated + a.d_layers * 2 * n * a.d_hidden
        g_step = generated + a.d_layers * n * a.d_hidden
        return n_train + (n_train // n) * (d_step + g_step)

    @property
    def history(self) -> list[np.ndarray]:
        """Per epoch, ``(2, K)``: the mean D and G loss of each member."""
        if self._pending:
            self._history.extend(torch.stack(self._pending).cpu().numpy())
            self._pending = []
        return self._history

    # -- random inputs, taken in a fixed order from the epoch's draws ----------------------------
    def _generate(self, draws: _Draws, rows: int) -> torch.Tensor:
        z = 2.0 * draws.take(rows, self.arch.latent_dim) - 1.0
        return self.G(z, self._mask(draws.take(*self.G.mask_shape(rows))))

    def _mask(self, u: torch.Tensor) -> torch.Tensor:
        return dropout_mask(u, self.arch.dropout)

    # -- one step of each network ----------------------------------------------------------------
    def _d_step(self, real: torch.Tensor, draws: _Draws) -> torch.Tensor:
        t = self.train_cfg
        n = real.shape[1]
        noise = (2.0 * draws.take(n, self.arch.dim) - 1.0) * t.data_noise
        with torch.no_grad():
            fake = self._generate(draws, n)
        # Real and generated batch in one discriminator call: sets axis 0 real, 1 generated.
        sets = torch.stack([real + noise, fake], dim=1).requires_grad_(True)
        phi = self.D(sets, self._mask(draws.take(*self.D.mask_shape(2 * n))))
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
        loss.sum().backward(inputs=self._d_params)  # no gradient for the input batch
        self.opt_d.step()
        return loss.detach()

    def _g_step(self, n: int, draws: _Draws) -> torch.Tensor:
        fake = self._generate(draws, n)
        phi = self.D(fake[:, None], self._mask(draws.take(*self.D.mask_shape(n))))[:, 0]
        loss = F.softplus(-phi).mean(1)
        self.opt_g.zero_grad(set_to_none=True)
        # Only G's gradients: D's weight gradients would be computed and thrown away.
        loss.sum().backward(inputs=self._g_params)
        self.opt_g.step()
        return loss.detach()

    def _epoch(self, u: torch.Tensor) -> torch.Tensor:
        """One epoch from its uniforms ``u`` ``(K, M)``: reshuffle, then alternate D and G steps.

        Returns ``(2, K)``: mean D and G loss per member. No host synchronisation happens here,
        so that the whole epoch can be captured as one CUDA graph.
        """
        t, draws = self.train_cfg, _Draws(u)
        n_train = self.data.shape[1]
        # A uniformly random permutation per member: the ranks of n_train uniforms.
        perm = torch.argsort(draws.take(n_train), dim=1, stable=True)
        shuffled = torch.gather(self.data, 1, perm[..., None].expand(-1, -1, self.arch.dim))
        d_losses, g_losses = [], []
        for start in range(0, n_train, t.batch_size):
            real = shuffled[:, start : start + t.batch_size]
            d_losses.append(self._d_step(real, draws))
            g_losses.append(self._g_step(real.shape[1], draws))
        if draws.used != u.shape[1]:  # uniforms_per_epoch and the steps disagree: a bug
            raise AssertionError(f"epoch used {draws.used} of {u.shape[1]} uniforms")
        return torch.stack([torch.stack(d_losses).mean(0), torch.stack(g_losses).mean(0)])

    def train_epoch(self) -> None:
        """One epoch: draw its random inputs, set the learning rate, run (or replay) it."""
        lr = self.train_cfg.lr_at(self.epoch)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                if torch.is_tensor(group["lr"]):
                    group["lr"].fill_(lr)
                else:
                    group["lr"] = lr
        self.streams.fill_uniform_(self._u)
        with float32_matmul_precision(self.train_cfg.matmul_precision):
            if not self.cuda_graph:
                losses = self._epoch(self._u)
            elif self._graph is not None or self._warmed_up:
                if self._graph is None:
                    self._capture()
                self._graph.replay()
                losses = self._graph_losses.clone()
            else:
                # Adam creates its state at its first step, and cuBLAS its handles at the first
                # matmul of a process: run one epoch eagerly (on a side stream, as CUDA graph
                # warm-up requires) and capture from the next one on.
                side = torch.cuda.Stream(self.device)
                side.wait_stream(torch.cuda.current_stream(self.device))
                with torch.cuda.stream(side):
                    losses = self._epoch(self._u)
                torch.cuda.current_stream(self.device).wait_stream(side)
                self._warmed_up = True
        self._pending.append(losses)
        self.epoch += 1

    def _capture(self) -> None:
        """Capture one epoch as a CUDA graph (after a warm-up epoch)."""
        torch.cuda.synchronize(self.device)
        self.opt_d.zero_grad(set_to_none=True)
        self.opt_g.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._graph_losses = self._epoch(self._u)
        self._graph = graph
        log.info("captured one training epoch as a CUDA graph (%d members)", self.members)

    # -- generation ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, streams: MemberStreams, chunk: int = 1000) -> np.ndarray:
        """``n`` events per member, dropout active (the paper's generation), shape ``(K, n, dim)``.

        ``streams`` is a generation stream per member, separate from the training streams, so
        generating more events never changes the trained model or the first events generated.
        """
        return generate_events(
            self.G, n, streams, self.data.dtype, self.train_cfg.matmul_precision, chunk
        )

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
        for opt, key in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            opt.load_state_dict(state[key])
            for group in opt.param_groups:  # the loaded value may be a float or a CPU tensor
                group["lr"] = self._lr_value(float(group["lr"]))
        self.streams.set_state(state["streams"])
        self.epoch = int(state["epoch"])
        self._history, self._pending = list(np.asarray(state["history"])), []
        # The optimizers' state tensors were replaced: warm up and capture anew.
        self._graph, self._warmed_up = None, False


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
    turns true (e.g. on SIGTERM from a scheduler), saves a checkpoint and raises
    :class:`ganplify.core.runtime.Preempted`.
    """
    epochs = trainer.train_cfg.epochs

    def log_epoch(e: int) -> None:
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

    return checkpoint.run_epochs(
        trainer,
        epochs,
        checkpoint_path=checkpoint_path,
        checkpoint_every=checkpoint_every,
        should_stop=should_stop,
        on_epoch=log_epoch,
    )

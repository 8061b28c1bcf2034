"""The GAN engine on a GPU: a replayed CUDA graph trains exactly as eager execution does.

Skipped without CUDA (CI has none); run on a GPU machine with ``pytest tests/test_gan_cuda.py``.
"""

import numpy as np
import pytest
import torch
from test_gan import TINY, _data, _seeds

from ganplify.core.runtime import Preempted
from ganplify.gan.models import GanArchitecture
from ganplify.gan.training import GanTrainer, TrainingConfig, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CFG = TrainingConfig(epochs=6, lr=1e-3, lr_decay_every=2)
#: Paper-like widths (fewer layers) so that cuBLAS picks the kernels it uses at full size.
WIDE = GanArchitecture(latent_dim=1000, g_layers=3, d_layers=3, dropout=0.2)


def _assert_same(a: GanTrainer, b: GanTrainer, k=slice(None), atol=0.0, loss_rtol=0.0):
    for net in ("G", "D"):
        other = getattr(b, net).state_dict()
        for name, p in getattr(a, net).state_dict().items():
            torch.testing.assert_close(p[k], other[name], rtol=0, atol=atol, msg=f"{net}.{name}")
    np.testing.assert_allclose(
        np.asarray(a.history)[:, :, k], np.asarray(b.history), rtol=loss_rtol
    )


@pytest.mark.parametrize("arch", [TINY, WIDE], ids=["tiny", "wide"])
def test_graph_replay_equals_eager(arch):
    data, seeds = _data(3), _seeds(3)
    graph = train(GanTrainer(data, arch, CFG, seeds, device="cuda"), log_every=0)
    eager = train(GanTrainer(data, arch, CFG, seeds, device="cuda", cuda_graph=False), log_every=0)
    assert graph._graph is not None and eager._graph is None
    _assert_same(graph, eager)


def test_graph_batched_members_equal_separate_trainings():
    data, seeds = _data(3), _seeds(3)
    f64 = {"device": "cuda", "dtype": torch.float64}
    batched = train(GanTrainer(data, TINY, CFG, seeds, **f64), log_every=0)
    for k in range(3):
        single = train(GanTrainer(data[k : k + 1], TINY, CFG, seeds[k : k + 1], **f64), log_every=0)
        # losses are means over a batch: one rounding apart (~1e-16) in float64
        _assert_same(batched, single, slice(k, k + 1), atol=1e-10, loss_rtol=1e-12)


def test_graph_resume_from_checkpoint_is_exact(tmp_path):
    data, seeds = _data(2), _seeds(2)
    full = train(GanTrainer(data, TINY, CFG, seeds, device="cuda"), log_every=0)
    ckpt = tmp_path / "c.pt"
    stop_after = iter([False, False, False, True])
    with pytest.raises(Preempted):
        train(
            GanTrainer(data, TINY, CFG, seeds, device="cuda"),
            checkpoint_path=ckpt,
            should_stop=lambda: next(stop_after),
            log_every=0,
        )
    resumed = GanTrainer(data, TINY, CFG, seeds, device="cuda")
    assert resumed.try_resume(ckpt) and resumed.epoch == 4
    train(resumed, checkpoint_path=ckpt, log_every=0)
    _assert_same(resumed, full)
    # a CPU checkpoint never continues a CUDA training (different random streams)
    cpu = GanTrainer(data, TINY, CFG, seeds)
    cpu.train_epoch()
    cpu.save_checkpoint(tmp_path / "cpu.pt")
    assert not GanTrainer(data, TINY, CFG, seeds, device="cuda").try_resume(tmp_path / "cpu.pt")

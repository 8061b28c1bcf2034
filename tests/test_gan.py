"""The GAN engine: batched members are exactly independent GANs; checkpoints resume exactly."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import REPO

from ganplify.core import seeding
from ganplify.core.runtime import Preempted
from ganplify.densities.truth import CamelBack
from ganplify.gan.models import (
    Discriminator,
    GanArchitecture,
    Generator,
    MemberStreams,
    dropout_mask,
    init_members,
)
from ganplify.gan.training import GanTrainer, TrainingConfig, train

TINY = GanArchitecture(
    latent_dim=8,
    g_hidden=16,
    g_layers=2,
    d_hidden=16,
    d_layers=2,
    embedding=(16, 16, 4),
    dropout=0.5,
)
FAST = TrainingConfig(epochs=4, lr=1e-3, lr_decay_every=2)


def _data(members, seed=0):
    t = CamelBack()
    return np.stack([t.sample(20, seeding.rng(seed, "data", k)) for k in range(members)])


def _seeds(members, tag="m"):
    return [seeding.torch_seed(1, tag, k) for k in range(members)]


def test_batched_members_equal_separate_trainings():
    """K members trained as one model == K single-model trainings from the same seeds."""
    data, seeds = _data(3), _seeds(3)
    # In float64 a batched matmul's different rounding stays ~1e-16, far below Adam's epsilon, so
    # it cannot be amplified into whole steps of size lr (as in float32, where a gradient that is
    # only rounding noise gets normalised to a step of ~lr): the members must agree to 1e-10.
    f64 = {"dtype": torch.float64}
    batched = train(GanTrainer(data, TINY, FAST, seeds, **f64), log_every=0)
    for k in range(3):
        single = train(
            GanTrainer(data[k : k + 1], TINY, FAST, seeds[k : k + 1], **f64), log_every=0
        )
        for net in ("G", "D"):
            one = getattr(single, net).state_dict()
            for name, p in getattr(batched, net).state_dict().items():
                torch.testing.assert_close(p[k : k + 1], one[name], rtol=0, atol=1e-10)
        np.testing.assert_allclose(
            np.asarray(batched.history)[:, :, k], np.asarray(single.history)[:, :, 0], rtol=1e-10
        )
    # the parameters moved (a test of nothing otherwise) ...
    start = GanTrainer(data, TINY, FAST, seeds, **f64)
    assert (batched.G.out.weight - start.G.out.weight).abs().max() > 1e-3
    # and the members really differ from each other (different seeds, different data)
    w = batched.G.out.weight.detach()
    assert not torch.allclose(w[0], w[1])


def test_member_stream_does_not_depend_on_k():
    a = MemberStreams(_seeds(2)).uniform(3, 4)
    b = MemberStreams(_seeds(5)).uniform(3, 4)
    torch.testing.assert_close(a, b[:2], rtol=0, atol=0)
    # the training's per-epoch draw into a fixed buffer gives the same numbers
    buf = MemberStreams(_seeds(5)).fill_uniform_(torch.empty(5, 12))
    torch.testing.assert_close(buf[:2].reshape(2, 3, 4), a, rtol=0, atol=0)


def test_glorot_init_scale_and_zero_bias():
    g = Generator(2, GanArchitecture(latent_dim=1000))
    init_members(g, MemberStreams(_seeds(2)))
    w = g.hidden[0].weight.detach()
    limit = (6 / (1000 + 256)) ** 0.5
    assert w.abs().max() <= limit and w.std().item() == pytest.approx(limit / 3**0.5, rel=0.02)
    assert torch.count_nonzero(g.hidden[0].bias) == 0


def test_discriminator_judges_each_point_against_its_own_batch():
    d = Discriminator(1, TINY)
    init_members(d, MemberStreams(_seeds(1)))
    x = torch.randn(1, 2, 5, 1)
    both = d(x, None)
    torch.testing.assert_close(both[:, 0], d(x[:, :1], None)[:, 0])
    torch.testing.assert_close(both[:, 1], d(x[:, 1:], None)[:, 0])
    # permuting a batch permutes its logits (a set function of the batch)
    perm = torch.tensor([3, 0, 4, 1, 2])
    torch.testing.assert_close(d(x[:, :1, perm], None)[0, 0], both[0, 0, perm])


def test_generation_keeps_dropout_active_and_is_reproducible():
    tr = GanTrainer(_data(1), TINY, FAST, _seeds(1))
    a = tr.generate(500, MemberStreams([7]))
    b = tr.generate(500, MemberStreams([7]))
    c = tr.generate(500, MemberStreams([8]))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # with a constant latent input, dropout alone must still spread the outputs
    z = torch.full((1, 200, TINY.latent_dim), 0.5)
    mask = dropout_mask(MemberStreams([3]).uniform(*tr.G.mask_shape(200)), TINY.dropout)
    assert tr.G(z, mask).std() > 0.01 and tr.G(z, None).std() < 1e-6


def test_the_multi_tensor_adam_trains_bit_for_bit_as_the_per_tensor_one():
    """core.nets.adam's foreach update (the GANs' on a CPU) changes no number: a float32 training
    with torch's per-tensor Adam, as the engine used before, ends in the same parameters."""
    data, seeds = _data(3), _seeds(3)
    ours = train(GanTrainer(data, TINY, FAST, seeds), log_every=0)
    loop = GanTrainer(data, TINY, FAST, seeds)
    assert ours.opt_g.defaults["foreach"] and ours.opt_d.defaults["foreach"]
    loop.opt_g = torch.optim.Adam(loop._g_params, lr=FAST.lr, betas=FAST.betas, foreach=False)
    loop.opt_d = torch.optim.Adam(loop._d_params, lr=FAST.lr, betas=FAST.betas, foreach=False)
    train(loop, log_every=0)
    for net in ("G", "D"):
        for name, p in getattr(ours, net).state_dict().items():
            torch.testing.assert_close(getattr(loop, net).state_dict()[name], p, rtol=0, atol=0)


def test_resume_from_checkpoint_is_exact(tmp_path):
    data, seeds = _data(2), _seeds(2)
    cfg = TrainingConfig(epochs=6, lr=1e-3, lr_decay_every=2)
    full = train(GanTrainer(data, TINY, cfg, seeds), log_every=0)

    ckpt = tmp_path / "c.pt"
    stop_after = iter([False, False, True])
    with pytest.raises(Preempted):
        train(
            GanTrainer(data, TINY, cfg, seeds),
            checkpoint_path=ckpt,
            should_stop=lambda: next(stop_after),
            log_every=0,
        )
    resumed = GanTrainer(data, TINY, cfg, seeds)
    assert resumed.try_resume(ckpt) and resumed.epoch == 3
    train(resumed, checkpoint_path=ckpt, log_every=0)
    for name, p in full.G.state_dict().items():
        torch.testing.assert_close(resumed.G.state_dict()[name], p, rtol=0, atol=0)
    np.testing.assert_array_equal(np.asarray(resumed.history), np.asarray(full.history))


def test_stale_checkpoint_is_not_resumed(tmp_path):
    data, seeds = _data(1), _seeds(1)
    ckpt = tmp_path / "c.pt"
    old = GanTrainer(data, TINY, TrainingConfig(epochs=3, lr=1e-3), seeds)
    old.train_epoch()
    old.save_checkpoint(ckpt)
    new = GanTrainer(data, TINY, TrainingConfig(epochs=3, lr=2e-3), seeds)
    assert not new.try_resume(ckpt) and new.epoch == 0
    other_data = GanTrainer(_data(1, seed=9), TINY, TrainingConfig(epochs=3, lr=1e-3), seeds)
    assert not other_data.try_resume(ckpt)
    same = GanTrainer(data, TINY, TrainingConfig(epochs=3, lr=1e-3), seeds)
    assert same.try_resume(ckpt) and same.epoch == 1


def test_bad_data_shape_is_rejected():
    with pytest.raises(ValueError, match="multiple of the batch size"):
        GanTrainer(_data(1)[:, :15], TINY, FAST, _seeds(1))
    with pytest.raises(ValueError, match="data must be"):
        GanTrainer(_data(2), TINY, FAST, _seeds(1))


# -- the training job, killed and resumed in a real process ------------------------------------

JOB = """
import sys
from ganplify.core.runtime import job
from ganplify.jobs.gan import train_block
with job(sys.argv[4] + ".log"):
    train_block(
        sys.argv[1].split(","), sys.argv[2], approach="ensemble", members=3,
        truth={"kind": "camelback"}, quantiles=[10, 20],
        architecture={"latent_dim": 8, "g_hidden": 16, "g_layers": 2, "d_hidden": 16,
                      "d_layers": 2, "embedding": [16, 16, 4], "dropout": 0.5,
                      "leaky_slope": 0.01},
        training={"epochs": int(sys.argv[3]), "batch_size": 10, "lr": 1e-3,
                  "betas": [0.5, 0.9], "lr_decay": 0.9, "lr_decay_every": 10,
                  "data_noise": 0.1, "gamma": float(sys.argv[5])},
        n_generated=[100, 1000], seed=5, checkpoint=sys.argv[4], checkpoint_every=2, threads=1,
    )
"""


@pytest.fixture
def job(tmp_path):
    """Start a block job training the ensembles of runs 0 and 1 (3 members each) in a process."""
    from ganplify.jobs.sample import make_sample

    samples = []
    for i in (0, 1):
        samples.append(tmp_path / f"sample{i}.h5")
        make_sample(
            samples[-1],
            study="camelback_1d",
            seed=5,
            index=i,
            truth={"kind": "camelback"},
            n_train=20,
            quantiles=[10, 20],
        )
    script = tmp_path / "job.py"
    script.write_text(JOB)

    def start(out, ckpt, epochs, gamma=0.01):
        paths = ",".join(map(str, samples))
        return subprocess.Popen(
            [sys.executable, str(script), paths, str(out), str(epochs), str(ckpt), str(gamma)],
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


def _wait_for(path, proc, timeout=120):
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, f"job ended early: {proc.stderr.read()}"
        assert time.time() - t0 < timeout, "no checkpoint appeared"
        time.sleep(0.05)


def _read_all(path):
    import h5py

    with h5py.File(path) as f:
        out = {}
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if hasattr(o, "shape") else None)
        return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_training_resumes_to_the_uninterrupted_result(tmp_path, job, sig):
    epochs = 60
    ref = job(tmp_path / "ref.h5", tmp_path / "ref.pt", epochs)
    assert ref.wait(timeout=300) == 0, ref.stderr.read()

    out, ckpt = tmp_path / "run.h5", tmp_path / "run.pt"
    proc = job(out, ckpt, epochs)
    _wait_for(ckpt, proc)
    os.kill(proc.pid, sig)
    code = proc.wait(timeout=120)
    if sig == signal.SIGTERM:
        assert code == 75, proc.stderr.read()  # checkpointed on the signal, asks for a retry
    assert not out.exists() and ckpt.exists()
    resumed = job(out, ckpt, epochs)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    log = (tmp_path / "run.pt.log").read_text()
    assert "resumed from" in log
    assert not ckpt.exists()  # removed once the output is written

    a, b = _read_all(tmp_path / "ref.h5"), _read_all(out)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert a["runs/1/quantiles/K10"].shape == (2, 10) and a["runs/0/generated"].shape == (1000, 1)


def test_a_changed_hyperparameter_never_resumes_a_stale_block_checkpoint(tmp_path, job):
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.pt"
    proc = job(out, ckpt, 60)
    _wait_for(ckpt, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    rerun = job(out, ckpt, 8, gamma=0.5)  # another penalty: another training
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    log = (tmp_path / "run.pt.log").read_text()
    assert "ignoring stale checkpoint" in log and "resumed from" not in log


def test_repo_importable_in_subprocess():
    # the kill test runs the package from a fresh interpreter: make sure it sees this checkout
    out = subprocess.run(
        [sys.executable, "-c", "import ganplify, sys; print(ganplify.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(REPO) in out

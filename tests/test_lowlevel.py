"""The low-level classifier: the paper's network, the streamed batches, reproducibility."""

import numpy as np
import pytest
import torch

from ganplify.calo.formats import ShowerWriter
from ganplify.calo.simulator import FASTSIM, simulate
from ganplify.calo.streaming import PairedBatches, SliceBatches, loader, slices
from ganplify.core import seeding
from ganplify.dctr.lowlevel import LowLevelConfig, ShowerCNN, predict_batches, train_network

TINY = LowLevelConfig(filters=4, hidden=(8, 8, 8), batch_size=40)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_papers_network_shapes():
    net = ShowerCNN(LowLevelConfig())
    x = torch.rand(2, 30, 30, 30)
    assert net(x).shape == (2,)
    assert net.dense[0].in_features == 128 * 6 * 6 * 6  # 30³ → 15³ → 8³ → 6³
    assert [d.out_features for d in net.dense] == [64, 256, 256, 1]
    assert net.conv1.stride == (2, 2, 2) and net.conv3.padding == (0, 0, 0)
    assert tuple(net.norm1.normalized_shape) == (128, 15, 15, 15)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ll")
    out = {}
    for name, model, n in (("truth", None, 120), ("gen", FASTSIM, 200)):
        showers = simulate(n, seeding.rng(7, "ll", name), **({"model": model} if model else {}))
        path = d / f"{name}.h5"
        with ShowerWriter(path, chunk_showers=16) as w:
            w.append(np.full(n, 50.0), showers)
        out[name] = (str(path), "getting_high", 0, n)
    return out


def test_paired_batches_tile_the_truth_and_balance_the_classes(files):
    t, g = slices([files["truth"]], 20), slices([files["gen"]], 20)
    assert [s.n for s in t] == [20] * 6 and len(g) == 10
    data = PairedBatches(g, t, (30, 30, 30), seed=1)
    # every generated slice once, the truth slices cycled: 10 partners from 6 slices
    assert sorted(s.index for s in data.gen) == [s.index for s in g]
    used = [s.index for s in data.truth]
    assert set(used) == {s.index for s in t} and len(used) == 10
    batches = list(data)
    assert len(batches) == 10 and all(x.shape == (40, 30, 30, 30) for x, _ in batches)
    assert all(y.sum() == 20 for _, y in batches)


def _train_and_predict(files, workers, cfg=TINY):
    t, g = slices([files["truth"]], 20), slices([files["gen"]], 20)
    model, losses = train_network(
        loader(PairedBatches(g, t, (30, 30, 30), seed=3), workers=workers, device="cpu"),
        cfg,
        seed=11,
        log_every=0,
    )
    h = predict_batches(
        model,
        loader(SliceBatches(g, (30, 30, 30)), workers=workers, device="cpu"),
        200,
        bf16=cfg.bf16,
    )
    return losses, h


def test_training_is_reproducible_and_independent_of_the_number_of_workers(files):
    losses0, h0 = _train_and_predict(files, workers=0)
    losses2, h2 = _train_and_predict(files, workers=2)
    assert len(losses0) == 10 and np.all(np.isfinite(h0)) and h0.shape == (200,)
    np.testing.assert_array_equal(losses0, losses2)
    np.testing.assert_array_equal(h0, h2)
    assert np.ptp(h0) > 0  # the network responds to its input


def test_bf16_autocast_runs_and_stays_close_to_float32(files):
    _, h32 = _train_and_predict(files, workers=0)
    _, h16 = _train_and_predict(
        files,
        workers=0,
        cfg=LowLevelConfig(filters=4, hidden=(8, 8, 8), batch_size=40, bf16=True),
    )
    w32, w16 = h32 / (1 - h32), h16 / (1 - h16)
    assert np.all(np.isfinite(w16)) and not np.array_equal(w16, w32)
    assert np.median(np.abs(w16 / w32 - 1)) < 0.2


def test_cls_low_batches_and_network_for_a_challenge_geometry(tmp_path):
    """CaloChallenge geometries: batches are [log10 E_inc/MeV, voxels / E_inc], the network the
    cls-low MLP; training is reproducible and separates a degraded generator."""
    from ganplify.calo.detector import detector_from_config
    from ganplify.calo.formats import CALOCHALLENGE
    from ganplify.calo.simulator import simulate_energies
    from ganplify.dctr.lowlevel import VoxelMLP

    g = detector_from_config("dataset1-photons")
    paths = {}
    for name, model in (("truth", None), ("gen", FASTSIM)):
        rng = seeding.rng(8, "cls-low", name)
        e = rng.choice([1.024, 8.192], 200)
        showers = simulate_energies(e, rng, calorimeter=g, **({"model": model} if model else {}))
        paths[name] = tmp_path / f"{name}.h5"
        with ShowerWriter(paths[name], CALOCHALLENGE, calorimeter=g) as w:
            w.append(e, showers)
        if name == "truth":
            first_e, first = 1000 * e[:20], showers[:20]
    parts = {k: slices([(str(p), CALOCHALLENGE, 0, 200)], 20) for k, p in paths.items()}
    data = PairedBatches(parts["gen"], parts["truth"], g.shape, seed=1, cls_low=True)
    (x, y), *_ = list(data)
    assert x.shape == (40, 1 + 368) and list(y[:20]) == [0] * 20
    x_truth, _ = next(iter(SliceBatches(parts["truth"][:1], g.shape, cls_low=True)))
    x_truth = x_truth.numpy()
    np.testing.assert_allclose(x_truth[:, 0], np.log10(first_e), rtol=1e-6)
    np.testing.assert_allclose(x_truth[:, 1:] * first_e[:, None], first, rtol=1e-5, atol=1e-4)
    cfg = LowLevelConfig(hidden=(32, 32), batch_size=40, lr=3e-3, epochs=4)
    model, losses = train_network(data, cfg, seed=3, shape=(369,))
    again, losses2 = train_network(data, cfg, seed=3, shape=(369,))
    assert isinstance(model, VoxelMLP) and np.array_equal(losses, losses2)
    h = {
        k: predict_batches(model, SliceBatches(parts[k], g.shape, cls_low=True), 200) for k in parts
    }
    from ganplify.dctr.metrics import auc

    assert auc(np.concatenate([h["truth"], h["gen"]]), np.r_[np.ones(200), np.zeros(200)]) > 0.6

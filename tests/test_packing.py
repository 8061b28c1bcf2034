"""Packing: a block of runs trains each run's GANs as they train unpacked.

Exactness is checked in float64. In float32 a packed member is *not* bit-identical to its unpacked
self on a CPU: PyTorch's vectorised kernels treat the last elements of every tensor in a scalar
loop whose transcendental functions (exp in ELU, softplus, sigmoid) can round differently, which
member's elements land there depends on the block's size, and GAN training amplifies a one-ulp
difference into another trajectory. In float64 the members stay equal to ~1e-12.
"""

import h5py
import numpy as np
import pytest

from ganplify.jobs.gan import train_block, unpack_run
from ganplify.jobs.sample import make_sample

ARCH = {
    "latent_dim": 8,
    "g_hidden": 16,
    "g_layers": 2,
    "d_hidden": 16,
    "d_layers": 2,
    "embedding": [16, 16, 4],
    "dropout": 0.3,
    "leaky_slope": 0.01,
}
TRAINING = {
    "epochs": 4,
    "batch_size": 10,
    "lr": 1e-3,
    "betas": [0.5, 0.9],
    "lr_decay": 0.9,
    "lr_decay_every": 2,
    "data_noise": 0.1,
    "gamma": 0.01,
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("packing")
    paths = []
    for i in range(3):
        paths.append(d / f"sample{i}.h5")
        make_sample(
            paths[-1],
            study="ring_2d",
            seed=9,
            index=i,
            truth={"kind": "shell", "dim": 2},
            n_train=20,
            quantiles=[3, 5],
        )
    return d, paths


def _block(d, paths, approach, members, name, dtype="float64"):
    out = d / f"{name}.h5"
    train_block(
        [str(p) for p in paths],
        out,
        approach=approach,
        members=members,
        truth={"kind": "shell", "dim": 2},
        quantiles=[3, 5],
        architecture=ARCH,
        training=TRAINING,
        n_generated=[100, 500],
        seed=9,
        checkpoint=d / f"{name}.pt",
        dtype=dtype,
    )
    return out


def _run(block, i, d, name):
    out = d / f"{name}_run{i}.h5"
    unpack_run(block, out, index=i)
    with h5py.File(out) as f:
        data = {}
        f.visititems(
            lambda n, o: data.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
        )
        return data, dict(f.attrs)


@pytest.mark.parametrize("approach, members", [("gan", 1), ("ensemble", 3)])
def test_a_packed_block_equals_its_runs_trained_alone(samples, approach, members):
    d, paths = samples
    packed = _block(d, paths, approach, members, f"{approach}_packed")
    for i, path in enumerate(paths):
        alone = _block(d, [path], approach, members, f"{approach}_alone{i}")
        a, attrs_a = _run(packed, i, d, f"{approach}_p")
        b, attrs_b = _run(alone, i, d, f"{approach}_a")
        assert a.keys() == b.keys() and "generator/out.weight" in a
        for name in a:
            if name.startswith(("quantiles", "marginals")) or name == "n_generated":
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)
            else:
                np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-9, err_msg=name)
        assert a["history"].shape == (4, 2, members)
        assert a["generator/out.weight"].shape[0] == members
        assert attrs_a["member_seeds"] == attrs_b["member_seeds"] and attrs_a["index"] == i
        assert attrs_a["block_runs"] == "[0, 1, 2]" and attrs_b["block_runs"] == f"[{i}]"
    # the runs really differ from each other (their own samples and seeds)
    r0, _ = _run(packed, 0, d, "x")
    r1, _ = _run(packed, 1, d, "y")
    assert not np.allclose(r0["generated"], r1["generated"])


def test_a_float32_block_is_reproducible_and_unpacks_every_run(samples):
    d, paths = samples
    a = _block(d, paths, "ensemble", 2, "f32_a", dtype="float32")
    b = _block(d, paths, "ensemble", 2, "f32_b", dtype="float32")
    for i in range(3):
        ra, _ = _run(a, i, d, "ra")
        rb, _ = _run(b, i, d, "rb")
        for name in ra:
            np.testing.assert_array_equal(ra[name], rb[name], err_msg=name)
        assert ra["generated"].shape == (500, 2) and ra["generated"].dtype == np.float32
    with pytest.raises(KeyError, match="no run 7"):
        unpack_run(a, d / "missing.h5", index=7)
    assert not (d / "f32_a.pt").exists()  # the checkpoint is removed once the block is written

import h5py
import numpy as np
import pytest

from ganplify.core import seeding
from ganplify.core.io import read_attrs, read_dataset, write_h5
from ganplify.jobs.common import read_fractions


def test_streams_are_reproducible_and_distinct():
    a = seeding.rng(1, "camelback_1d", "sample", 3).random(5)
    b = seeding.rng(1, "camelback_1d", "sample", 3).random(5)
    c = seeding.rng(1, "camelback_1d", "sample", 4).random(5)
    d = seeding.rng(2, "camelback_1d", "sample", 3).random(5)
    e = seeding.rng(1, "ring_2d", "sample", 3).random(5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d) and not np.allclose(a, e)
    assert seeding.torch_seed(1, "gan", 0) == seeding.torch_seed(1, "gan", 0)
    assert 0 <= seeding.torch_seed(1, "gan", 0) < 2**63
    with pytest.raises(TypeError):
        seeding.rng(1, 2.5)


def test_write_h5_roundtrip_and_atomicity(tmp_path):
    path = tmp_path / "sub" / "run.h5"
    write_h5(
        path,
        {"x": np.arange(3.0), "quantiles/K10": np.full(10, 0.1)},
        {"seed": 5, "config": {"a": [1, 2]}, "study": "s"},
    )
    assert read_attrs(path) == {"seed": 5, "config": {"a": [1, 2]}, "study": "s"}
    np.testing.assert_array_equal(read_dataset(path, "x"), np.arange(3.0))
    np.testing.assert_array_equal(read_fractions(path, 10), np.full(10, 0.1))
    assert [p.name for p in path.parent.iterdir()] == ["run.h5"]  # no temporary left behind
    with pytest.raises(KeyError, match="quantiles/K20"):
        read_fractions(path, 20)


def test_failed_write_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "run.h5"
    write_h5(path, {"x": np.arange(3.0)})

    class Boom:
        def __array__(self, *a, **k):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_h5(path, {"x": np.zeros(2), "y": Boom()})
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["x"][()], np.arange(3.0))
    assert len(list(tmp_path.iterdir())) == 1

"""The forecast's jobs: bootstrap members (each its own resample and seeds, the same on every
rerun and in any block), the study's forecast table beside the measurement, and a user's
generated files on the calorimeter side with no truth beyond the training sample."""

import h5py
import numpy as np
import pandas as pd
import pytest

from ganplify.amplification.tables import FORECAST_COLUMNS, VERDICTS
from ganplify.core import seeding
from ganplify.core.io import read_attrs
from ganplify.jobs.forecast import forecast_study, read_members, resamples, train_forecast_block
from ganplify.jobs.sample import make_sample

TRUTH = {"kind": "shell", "dim": 2}
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
    "epochs": 3,
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
    d = tmp_path_factory.mktemp("forecast")
    paths = [d / f"sample{i}.h5" for i in range(2)]
    for i, p in enumerate(paths):
        make_sample(p, study="ring_2d", seed=9, index=i, truth=TRUTH, n_train=20, quantiles=[3])
    return d, paths


def _block(d, paths, name, members=3, dtype="float64"):
    out = d / f"{name}.h5"
    train_forecast_block(
        [str(p) for p in paths],
        out,
        members=members,
        truth=TRUTH,
        quantiles=[3],
        architecture=ARCH,
        training=TRAINING,
        n_generated=300,
        seed=9,
        checkpoint=d / f"{name}.pt",
        dtype=dtype,
    )
    return out


def test_members_see_their_own_resamples_and_rerun_identically(samples):
    d, paths = samples
    packed = _block(d, paths, "packed")
    alone = _block(d, paths[1:], "alone")  # run 1 again, in a block of its own
    with h5py.File(packed) as f, h5py.File(alone) as h:
        for i in (0, 1):
            picks = f[f"runs/{i}/resample"][()]
            assert picks.shape == (3, 20)
            np.testing.assert_array_equal(picks, resamples(9, "ring_2d", i, 3, 20))
            # every member its own resample (with repeats: a bootstrap, not a permutation)
            assert len({tuple(r) for r in picks}) == 3
            assert all(len(set(r)) < 20 for r in picks)
            frac = f[f"runs/{i}/quantiles/K9"][()]
            assert frac.shape == (3, 9)
            np.testing.assert_allclose(frac.sum(axis=1), 1.0)
            assert not np.allclose(frac[0], frac[1])  # members differ
        # rerun: run 1 trained alone is run 1 trained in the block of two (float64: to 1e-12)
        np.testing.assert_array_equal(f["runs/1/resample"][()], h["runs/1/resample"][()])
        np.testing.assert_array_equal(f["runs/1/quantiles/K9"][()], h["runs/1/quantiles/K9"][()])
        np.testing.assert_allclose(f["runs/1/history"][()], h["runs/1/history"][()], atol=1e-9)
    runs = read_attrs(packed)["runs"]
    assert runs["0"]["member_seeds"] == [
        str(s) for s in seeding.member_seeds(9, "ring_2d", "forecast", 0, 3)
    ]
    # a member does not depend on how many members there are
    np.testing.assert_array_equal(
        resamples(9, "ring_2d", 0, 2, 20), resamples(9, "ring_2d", 0, 3, 20)[:2]
    )
    assert not (d / "packed.pt").exists()
    assert set(read_members([packed])) == {0, 1}


def _errors(path, k, mse):
    """A gathered quantile_errors.h5 with a GAN's per-run MSE (runs, M, nK)."""
    with h5py.File(path, "w") as f:
        f["K"] = np.array([k])
        f["gan/mse"] = mse
        f["gan/ok"] = np.ones(mse.shape[0], bool)
        f["gan/n_generated"] = np.array([100, 300])


def test_the_study_table_puts_the_forecast_beside_the_measurement(samples, tmp_path):
    d, paths = samples
    block = _block(d, paths, "table", dtype="float32")
    errors = tmp_path / "errors.h5"
    _errors(errors, 9, np.full((4, 2, 1), 2e-3))
    common = dict(
        study="ring_2d",
        truth=TRUTH,
        n_train=20,
        quantiles=[3],
        n_generated=[100, 300],
        statistics={"confidence_level": 0.68, "bootstrap_resamples": 50},
        n_resamples=100,
        seed=9,
    )
    rows = forecast_study(
        [block], tmp_path / "f.csv", tmp_path / "f.png", errors_h5=errors, **common
    )
    table = pd.read_csv(tmp_path / "f.csv", keep_default_na=False)
    assert list(table.columns) == FORECAST_COLUMNS and len(table) == len(rows) == 3
    assert list(table.n_generated.astype(float)) == [100, 300, float("inf")]
    assert (table.forecast_runs == 2).all() and (table.members == 3).all()
    finite = table.iloc[:2]
    # the measured N_eq is §1.3's of the mean MSE: (K − 1)/(K² · 2e-3) = 49.4
    np.testing.assert_allclose(finite.measured_n_equiv.astype(float), 8 / (81 * 2e-3))
    assert (finite.measured_runs == 4).all() and table.measured_runs.iloc[2] == 0
    assert set(table.verdict) <= set(VERDICTS) and table.verdict.iloc[2] == ""
    for r in rows[:2]:
        lo, hi = r["forecast_n_equiv_lo"], r["forecast_n_equiv_hi"]
        expected = (
            "over-promises"
            if r["measured_n_equiv"] < lo
            else ("under-promises" if r["measured_n_equiv"] > hi else "right")
        )
        assert r["verdict"] == expected
        assert lo <= r["forecast_n_equiv"] <= hi
    assert (tmp_path / "f.png").stat().st_size > 5000
    # without a GAN to measure: the forecast alone
    alone = forecast_study([block], tmp_path / "g.csv", None, errors_h5=None, **common)
    assert all(np.isnan(r["measured_n_equiv"]) and r["verdict"] == "" for r in alone)


def test_a_users_generated_files_are_forecast_with_no_truth_beyond_the_training_sample(tmp_path):
    """kind: file on the calorimeter side: three members' shower files (the simulator with its
    shower depth shifted member by member, standing in for bootstrap-trained generators) against
    the training sample's quantiles alone; the output says there is no truth beyond it."""
    from dataclasses import replace

    from ganplify.calo.features import feature_set
    from ganplify.calo.formats import ShowerWriter
    from ganplify.calo.geometry import ILD
    from ganplify.calo.simulator import FASTSIM, TRUTH, simulate
    from ganplify.core.io import write_h5
    from ganplify.jobs.calo_forecast import (
        COLUMNS,
        NO_TRUTH,
        calo_forecast,
        file_member_observables,
    )

    features = feature_set(ILD)
    training = tmp_path / "training.h5"
    write_h5(
        training,
        {
            "observables": features.compute(simulate(400, seeding.rng(0, "t"), model=TRUTH)),
            "incident_energy": np.full(400, 50.0),
        },
        {"observables": features.names},
    )
    members = []
    for m, scale in enumerate((0.96, 1.0, 1.04)):
        model = replace(FASTSIM, depth_scale=FASTSIM.depth_scale * scale)
        path = tmp_path / f"member{m}.h5"
        with ShowerWriter(path, "getting_high") as w:
            w.append(np.full(300, 50.0), simulate(300, seeding.rng(0, "m", m), model=model))
        members.append(tmp_path / f"obs{m}.h5")
        file_member_observables([str(path)], "auto", members[-1], detector="ild")
    rows = calo_forecast(
        training,
        members,
        tmp_path / "forecast.csv",
        tmp_path / "forecast.png",
        calo="ild",
        n_train=None,
        quantiles=5,
        n_generated=[300, 3000],
        n_resamples=50,
        confidence_level=0.68,
        seed=1,
    )
    table = pd.read_csv(tmp_path / "forecast.csv")
    assert list(table.columns) == COLUMNS and len(table) == len(rows)
    assert (table.truth == NO_TRUTH).all() and (table.n_train == 400).all()
    assert table.measured_n_equiv.isna().all() and table.misspecification.isna().all()
    whole = table[table.observable == "all"]
    assert list(whole.n_generated) == [300.0, 3000.0, float("inf")]
    assert whole.forecast_n_equiv.is_monotonic_increasing
    assert table.observable.nunique() > 10  # every observable on its own, too
    assert (tmp_path / "forecast.png").stat().st_size > 5000

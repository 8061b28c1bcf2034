"""The tables layer on small hand-computed inputs: rows, exclusions, column contracts."""

import numpy as np
import pytest

from ganplify.amplification.tables import (
    EQUIVALENCE_COLUMNS,
    MARGINAL_COLUMNS,
    SATURATION_COLUMNS,
    amplification_vs_ntrain_rows,
    equivalence_rows,
    fit_summary_row,
    marginal_rows,
    marginal_run_errors,
    run_errors,
    saturation_rows,
)
from ganplify.core import seeding


def _rng(k):
    return seeding.rng(0, "tables", k)


def test_run_errors_by_hand_and_failed_runs_are_flagged():
    # K = 4, expected fraction 0.25 per cell.
    # run 0: (0.5, 0.5, 0, 0) -> mean of (0.0625, 0.0625, 0.0625, 0.0625) = 0.0625
    # run 1: exact -> 0;  run 2: a failed fit (NaN)
    f4 = np.array([[0.5, 0.5, 0.0, 0.0], [0.25] * 4, [np.nan] * 4])
    # K = 2: run 0 (0.7, 0.3) -> 0.04; run 1 (0.5, 0.5) -> 0; run 2 (0.4, 0.6) -> 0.01
    f2 = np.array([[0.7, 0.3], [0.5, 0.5], [0.4, 0.6]])
    mse, ok = run_errors({4: f4, 2: f2})
    assert mse.shape == (3, 2)
    np.testing.assert_allclose(mse[:2], [[0.0625, 0.04], [0.0, 0.0]])
    assert np.isnan(mse[2, 0]) and mse[2, 1] == pytest.approx(0.01)
    assert ok.tolist() == [True, True, False]  # one NaN in any K excludes the whole run
    # generators: (runs, n_generated, K) -> (runs, n_generated, n_K)
    gen = np.stack([f2, f2])
    mse_g, ok_g = run_errors({2: gen})
    assert mse_g.shape == (2, 3, 1) and ok_g.all()


def test_equivalence_rows_by_hand():
    # K = 10: mse 9e-4 is worth exactly 100 events ((K - 1) / (K^2 mse) = 9 / 0.09)
    rows = equivalence_rows(
        "fit", 50, {10: np.array([9e-4, 9e-4, np.nan])}, rng_for=_rng, n_resamples=50
    )
    (row,) = rows
    assert list(row) == EQUIVALENCE_COLUMNS
    assert row["n_runs"] == 2  # the NaN run is excluded and not counted
    assert row["n_equiv"] == pytest.approx(100.0)
    assert row["amplification"] == pytest.approx(2.0)
    assert row["mse_std"] == 0.0
    assert row["n_equiv_lo"] == pytest.approx(100.0) and row["n_equiv_hi"] == pytest.approx(100.0)
    # rows come out ordered by K; two runs of 1e-3 and 3e-3 have mean 2e-3: K = 20 -> 19/0.8
    rows = equivalence_rows(
        "gan", 100, {20: np.array([1e-3, 3e-3]), 5: np.array([0.16, 0.16])}, rng_for=_rng
    )
    assert [r["K"] for r in rows] == [5, 20]
    assert rows[0]["n_equiv"] == pytest.approx(4 / (25 * 0.16))
    assert rows[1]["n_equiv"] == pytest.approx(19 / (400 * 2e-3))
    assert rows[1]["mse_std"] == pytest.approx(np.std([1e-3, 3e-3], ddof=1))
    with pytest.raises(ValueError, match="no finite"):
        equivalence_rows("fit", 100, {10: np.array([np.nan])}, rng_for=_rng)


def test_marginal_rows_name_the_coordinates():
    # (runs=2, n_q=1, dim=2): radius mse 0.02 and 0.04, angle 0.01 and 0.01, q = 5
    m = np.array([[[0.02, 0.01]], [[0.04, 0.01]]])
    rows = marginal_rows("sample", m, [5])
    assert [list(r) for r in rows] == [MARGINAL_COLUMNS] * 2
    assert [r["coordinate"] for r in rows] == ["r", "phi1"]
    assert rows[0]["mse_mean"] == pytest.approx(0.03)
    assert rows[0]["n_equiv"] == pytest.approx(4 / (25 * 0.03))
    assert rows[1]["mse_std"] == 0.0
    one_d = marginal_rows("fit", np.array([[[0.01]], [[np.nan]]]), [10])
    assert one_d[0]["coordinate"] == "x" and one_d[0]["n_runs"] == 1


def test_marginal_run_errors_shape_and_value():
    # q = 2, dim = 1: fractions (0.6, 0.4) -> mse 0.01
    m = marginal_run_errors({2: np.array([[[0.6, 0.4]]]), 4: np.array([[[0.25] * 4]])})
    assert m.shape == (1, 2, 1)
    np.testing.assert_allclose(m[0, :, 0], [0.01, 0.0])


def test_saturation_rows_of_exact_curves():
    n = np.array([100, 1000, 10_000, 100_000])
    a = np.array([1e-4, 3e-4])  # two runs' biases
    b = 0.09
    mse = (a[:, None] + b / n[None, :])[:, :, None]  # (runs, M, nK = 1)
    (row,) = saturation_rows("gan", 100, n, mse, [10], fraction=0.1)
    assert list(row) == SATURATION_COLUMNS
    assert row["bias_mean"] == pytest.approx(2e-4)
    assert row["bias_std"] == pytest.approx(np.std(a, ddof=1))
    assert row["noise_mean"] == pytest.approx(0.09)
    # M_sat = b / (0.1 a): 9000 and 3000 events; the median of two is their mean
    assert row["n_sat_median"] == pytest.approx(6000.0)
    assert row["n_sat_mean_curve"] == pytest.approx(0.09 / (0.1 * 2e-4))
    assert row["n_equiv_asymptotic"] == pytest.approx(9 / (100 * 2e-4))
    assert row["amplification_asymptotic"] == pytest.approx(row["n_equiv_asymptotic"] / 100)


def test_fit_summary_counts_failed_fits_and_pulls_the_rest():
    truth = np.array([0.0, 1.0])
    values = np.array([[0.1, 1.2], [-0.1, 0.8], [np.nan, np.nan]])
    errors = np.array([[0.1, 0.2], [0.1, 0.2], [np.nan, np.nan]])
    row = fit_summary_row(("mu", "sigma"), truth, values, errors, np.array([True, True, False]))
    assert (row["n_fits"], row["n_valid"], row["n_failed"]) == (3, 2, 1)
    assert row["mu_mean"] == pytest.approx(0.0) and row["sigma_mean"] == pytest.approx(1.0)
    assert row["mu_pull_mean"] == pytest.approx(0.0)
    assert row["mu_pull_std"] == pytest.approx(np.std([1.0, -1.0], ddof=1))
    assert row["sigma_truth"] == 1.0 and row["sigma_mean_error"] == pytest.approx(0.2)


def test_amplification_vs_ntrain_rows_divide_by_each_size():
    def table(n_train, approach_k_neq):
        return [
            {
                "approach": a,
                "n_train": n_train,
                "K": k,
                "n_runs": 10,
                "n_equiv": n,
                "n_equiv_lo": 0.5 * n,
                "n_equiv_hi": 2 * n,
                "n_eff": n_train if a == "sample" else 950.0,
            }
            for a, k, n in approach_k_neq
        ]

    rows = amplification_vs_ntrain_rows(
        [
            table(100, [("sample", 10, 100.0), ("gan_dctr", 20, 300.0), ("gan_dctr", 10, 250.0)]),
            table(1000, [("sample", 10, 1000.0), ("gan_dctr", 10, 1500.0)]),
        ]
    )
    keys = [(r["approach"], r["K"], r["n_train"]) for r in rows]
    assert keys == [
        ("sample", 10, 100),
        ("sample", 10, 1000),
        ("gan_dctr", 10, 100),
        ("gan_dctr", 10, 1000),
        ("gan_dctr", 20, 100),
    ]
    by = {k: r for k, r in zip(keys, rows, strict=True)}
    assert by[("gan_dctr", 10, 100)]["amplification"] == pytest.approx(2.5)
    assert by[("gan_dctr", 10, 1000)]["amplification"] == pytest.approx(1.5)
    r = by[("gan_dctr", 20, 100)]
    assert (r["amplification_lo"], r["amplification_hi"]) == pytest.approx((1.5, 6.0))
    assert by[("sample", 10, 1000)]["n_eff"] == 1000

"""Amplification on observables (ganplify.amplification.observables) against exact answers:
a truth sample is worth its own size, a biased one less, a constant observable nothing."""

import numpy as np
import pytest

from ganplify.amplification import observables as ob

NAMES = ["gauss", "uniform", "zeros", "const"]


def _draw(n, rng, shift=0.0):
    x = np.empty((n, 4))
    x[:, 0] = rng.standard_normal(n) + shift
    x[:, 1] = rng.random(n)
    # 40 % exact zeros: tied quantiles merge cells, which are then unequal
    x[:, 2] = np.where(rng.random(n) < 0.4, 0.0, rng.exponential(size=n))
    x[:, 3] = 1.0
    return x


@pytest.fixture(scope="module")
def cells():
    return ob.reference_cells(_draw(200_000, np.random.default_rng(0)), NAMES, 10)


def test_cells_follow_the_reference_quantiles(cells):
    assert cells.names == ("gauss", "uniform", "zeros")  # the constant has one cell: dropped
    assert [len(p) for p in cells.probs] == [10, 10, 8]
    np.testing.assert_allclose(cells.probs[0], 0.1, atol=1e-4)
    # the tie: 40 % of the events in the cell that starts at 0
    assert cells.probs[2][1] == pytest.approx(0.4, abs=0.005) and cells.probs[2][0] == 0
    np.testing.assert_allclose(cells.noise[:2], 9 / 100, rtol=1e-3)  # (K − 1)/K² for equal cells
    assert cells.noise[2] == pytest.approx(np.mean(cells.probs[2] * (1 - cells.probs[2])))


def test_truth_samples_are_worth_their_size(cells):
    """E[Σ MSE] = Σ A_o (1/N + 1/N_ref) exactly: N_eq of the mean MSE over repetitions is N."""
    n, reps = 2000, 60
    amps = []
    for t in range(reps):
        rng = np.random.default_rng(100 + t)
        idx = ob.cell_indices(cells, _draw(n, rng), NAMES)
        amps.append(ob.sample_amplification(cells, idx, rng=rng, n_bootstrap=100))
    mean_mse = np.mean([a.mse for a in amps])
    sd_of_mean = np.std([a.mse for a in amps], ddof=1) / np.sqrt(reps)
    n_eq = ob.equivalent_events(cells, mean_mse)
    # within 3 standard errors of the mean MSE (about 4 % here)
    tol = n * 3 * sd_of_mean / (mean_mse - cells.noise.sum() / cells.n_reference)
    assert abs(n_eq - n) < tol
    coverage = np.mean([a.n_eq_lo <= n <= a.n_eq_hi for a in amps])
    assert 0.68 <= coverage <= 0.99  # conservative intervals (see the module docstring)
    # a truth sample as the "generator" of its own training sample: G = 1 within the interval
    g, lo, hi = amps[0].gain(n)
    assert lo <= 1.0 <= hi and g == pytest.approx(1.0, rel=0.35)


def test_weights_that_undo_a_shift_restore_the_worth(cells):
    """A shifted Gaussian is worth few events; the exact density ratio brings it back to about
    its effective size N_eff = (Σw)²/Σw²."""
    rng = np.random.default_rng(7)
    n, shift = 20_000, 0.3
    x = _draw(n, rng, shift)
    idx = ob.cell_indices(cells, x, NAMES)
    biased = ob.sample_amplification(cells, idx, rng=rng, n_bootstrap=50)
    w = np.exp(-shift * x[:, 0] + shift**2 / 2)  # N(0,1) / N(shift,1)
    fixed = ob.sample_amplification(cells, idx, w, rng=rng, n_bootstrap=50)
    n_eff = w.sum() ** 2 / (w * w).sum()
    assert biased.n_eq < 0.05 * n  # the bias dominates: MSE ≈ the shift's, not the noise
    assert fixed.n_eq_lo <= n_eff <= fixed.n_eq_hi * 1.2
    assert fixed.n_eq > 10 * biased.n_eq


def test_a_reference_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="3 observables"):
        ob.reference_cells(np.zeros((10, 4)), ["a", "b", "c"], 10)

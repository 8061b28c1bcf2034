"""DCTR reweighting and its statistics, checked against exact results.

The "generator" here is the toy truth with shifted means and wider components: its density is
known in closed form, so the weights the classifier should learn, p_T/p_G, are known exactly.
"""

import logging

import numpy as np
import pytest
import torch
from scipy import stats

from ganplify.core import seeding
from ganplify.dctr.calibration import fit_calibration
from ganplify.dctr.classifier import ClassifierConfig, balanced_weights, train_classifier
from ganplify.dctr.crossfit import cross_fit, fold_ids
from ganplify.dctr.metrics import (
    auc,
    bin_indices,
    bootstrap_std_of_means,
    dilution,
    events_needed_ratio,
    jsd_from_bce,
    separation_power,
    separation_power_of_histograms,
    separation_power_ratio_errors,
)
from ganplify.dctr.weights import WeightSettings, dctr_weights, effective_sample_size
from ganplify.densities.toys import bimodal_1d, circle_8, grid_5x5

TRUTH = bimodal_1d()
GEN = TRUTH.shifted(0.15, 1.2)  # every mode moved by 0.15 and 20 % wider
SMALL = ClassifierConfig(hidden=(20, 20, 20), epochs=60, batch_size=512, lr=3e-3, patience=8)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _samples(n, tag):
    return TRUTH.sample(n, seeding.rng(1, tag, "t")), GEN.sample(n, seeding.rng(1, tag, "g"))


def _bulk(x):
    """Where both densities exceed 1 % of their peak."""
    grid = np.linspace(-4, 4, 4001)[:, None]
    return (TRUTH.pdf(x) > 0.01 * TRUTH.pdf(grid).max()) & (GEN.pdf(x) > 0.01 * GEN.pdf(grid).max())


@pytest.mark.parametrize(
    "calibration, cap", [("none", None), ("temperature", None), ("isotonic", 10.0)]
)
def test_learned_weights_match_the_exact_density_ratio(calibration, cap):
    """Tolerance: median |w / w_exact − 1| < 0.1 where both densities are above 1 % of peak.

    Isotonic calibration sends its purest end block to h = 1 − 1e-6, a weight of 1e6: its
    weights need a cap (the exact ratio here stays below 3 in the bulk).
    """
    xt, xg = _samples(20_000, "ratio")
    cf = cross_fit(
        xt, xg, SMALL, folds=2, calibration=calibration, seed=3, identity=("test", calibration)
    )
    w, diag = dctr_weights(cf.h_gen, WeightSettings(cap=cap, normalise=False))
    exact = TRUTH.pdf(xg) / GEN.pdf(xg)
    bulk = _bulk(xg)
    assert bulk.mean() > 0.95
    assert np.median(np.abs(w[bulk] / exact[bulk] - 1)) < 0.1
    # the weights do correct the generator: the weighted mean and width approach the truth's
    assert np.average(xg[:, 0], weights=w) == pytest.approx(xt[:, 0].mean(), abs=0.03)
    assert np.sqrt(np.average(xg[:, 0] ** 2, weights=w)) == pytest.approx(
        np.sqrt(np.mean(xt[:, 0] ** 2)), abs=0.03
    )
    assert diag.n == len(xg) and 0.5 < diag.n_eff_fraction < 1.0


def test_every_event_gets_an_out_of_fold_output_and_reruns_reproduce():
    xt, xg = _samples(3000, "oof")
    cfg = ClassifierConfig(hidden=(8,), epochs=3, batch_size=256)
    a = cross_fit(xt, xg, cfg, folds=3, calibration="temperature", seed=5, identity=("x",))
    b = cross_fit(xt, xg, cfg, folds=3, calibration="temperature", seed=5, identity=("x",))
    np.testing.assert_array_equal(a.h_gen, b.h_gen)
    assert np.all(np.isfinite(a.h_gen)) and np.all(np.isfinite(a.h_truth))
    assert sorted(np.bincount(a.fold_gen).tolist()) == [1000, 1000, 1000]
    c = cross_fit(xt, xg, cfg, folds=3, calibration="temperature", seed=6, identity=("x",))
    assert not np.array_equal(a.h_gen, c.h_gen)


def test_fold_ids_are_balanced():
    f = fold_ids(10, 3, seeding.rng(0, "f"))
    assert sorted(np.bincount(f).tolist()) == [3, 3, 4]
    with pytest.raises(ValueError):
        fold_ids(10, 1, seeding.rng(0))


def test_closure_a_fresh_classifier_cannot_tell_truth_from_exactly_weighted_events():
    """With the exact weights, a classifier of truth vs weighted generated gives AUC ≈ 0.5."""
    xt, xg = _samples(20_000, "closure")
    y = np.r_[np.ones(len(xt)), np.zeros(len(xg))]
    plain = cross_fit(xt, xg, SMALL, folds=2, calibration="none", seed=1, identity=("c", 0))
    auc_plain = auc(np.r_[plain.h_truth, plain.h_gen], y)
    w = TRUTH.pdf(xg) / GEN.pdf(xg)
    closure = cross_fit(
        xt, xg, SMALL, folds=2, calibration="none", seed=1, identity=("c", 1), w_gen=w
    )
    auc_closure = auc(np.r_[closure.h_truth, closure.h_gen], y, np.r_[np.ones(len(xt)), w])
    assert auc_plain > 0.57
    assert abs(auc_closure - 0.5) < 0.02
    jsd = jsd_from_bce(np.r_[closure.h_truth, closure.h_gen], y, np.r_[np.ones(len(xt)), w])
    assert abs(jsd) < 0.01


def test_separation_power_exact_values():
    bins = np.linspace(0, 3, 4)
    assert separation_power([0.5, 1.5, 2.5], [2.5, 1.5, 0.5], bins) == 0.0  # same histogram
    assert separation_power([0.5, 0.6], [2.5], bins) == pytest.approx(1.0)  # disjoint
    # by hand: h1 = (½, ½, 0), h2 = (¼, ¼, ½): ½ (1/16 / ¾ · 2 + ¼ / ½) = 1/3
    assert separation_power_of_histograms([0.5, 0.5, 0], [0.25, 0.25, 0.5]) == pytest.approx(1 / 3)
    # normalised to Σh = 1 whatever the sample sizes and weights: 2 events vs 4 weighted ones
    assert separation_power([0.5, 1.5], [0.5, 0.5, 1.5, 1.5], bins) == 0.0
    assert separation_power([0.5, 1.5], [0.5, 1.5], bins, w2=[3.0, 1.0]) == pytest.approx(
        separation_power_of_histograms([0.5, 0.5, 0], [0.75, 0.25, 0])
    )


def test_dilution_is_one_for_unweighted_equal_samples():
    gen = seeding.rng(2, "r1")
    f_t, f_g = gen.normal(0, 1, (100_000, 2)), gen.normal(0.3, 1, (100_000, 2))
    r = dilution(f_t, f_g, n_replicas=500, rng=seeding.rng(2, "boot"))
    assert r.shape == (2,)
    np.testing.assert_allclose(r, 1.0, atol=0.15)


def test_dilution_squared_is_n_over_neff_for_independent_weights():
    """Weights ~ Exp(1), independent of f: N/N_eff → E[w²]/E[w]² = 2, so r → √2."""
    gen = seeding.rng(3, "r2")
    n = 100_000
    f_t, f_g = gen.normal(0, 1, n), gen.normal(0, 1, n)
    w = gen.exponential(1.0, n)
    r = dilution(f_t, f_g, w_gen=w, n_replicas=500, rng=seeding.rng(3, "boot"))
    assert r**2 == pytest.approx(n / effective_sample_size(w), rel=0.15)
    assert n / effective_sample_size(w) == pytest.approx(2.0, rel=0.05)


def test_bootstrap_std_is_the_standard_error():
    f = seeding.rng(4, "se").normal(0, 2.0, 40_000)
    std = bootstrap_std_of_means(f, n_replicas=400, rng=seeding.rng(4, "b"))
    assert std == pytest.approx(2.0 / np.sqrt(f.size), rel=0.15)


def test_events_needed_ratio_against_monte_carlo_variance_of_weighted_means():
    """Eq. 9 from one large sample vs the variance of weighted means over many small samples."""
    big = GEN.sample(400_000, seeding.rng(5, "big"))
    w_big = TRUTH.pdf(big) / GEN.pdf(big)
    ratio = events_needed_ratio(TRUTH.sample(400_000, seeding.rng(5, "bt"))[:, 0], big[:, 0], w_big)
    n, reps = 1000, 2000
    gen = seeding.rng(5, "mc")
    m_gen, m_truth = np.empty(reps), np.empty(reps)
    for r in range(reps):
        xg, xt = GEN.sample(n, gen)[:, 0], TRUTH.sample(n, gen)[:, 0]
        w = TRUTH.pdf(xg[:, None]) / GEN.pdf(xg[:, None])
        m_gen[r], m_truth[r] = np.average(xg, weights=w), xt.mean()
    assert ratio > 1.1  # these weights dilute x's mean: more generated events are needed
    assert m_gen.var() / m_truth.var() == pytest.approx(ratio, rel=0.15)


def test_auc_exact_values():
    assert auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert auc([1, 2, 3, 4], [1, 1, 0, 0]) == 0.0
    assert auc([1, 1, 1, 1], [1, 0, 1, 0]) == 0.5  # ties count one half
    # weights: a label-0 event of weight 3 above the positive, one of weight 1 below -> 1/4
    assert auc([0.0, 0.5, 1.0], [0, 1, 0], [1.0, 1.0, 3.0]) == pytest.approx(0.25)
    gen = seeding.rng(6, "auc")
    s, y = gen.normal(size=500), gen.integers(0, 2, 500)
    s[y == 1] += 0.5
    u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert auc(s, y) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))


def test_jsd_limits():
    y = np.r_[np.ones(100), np.zeros(100)]
    assert jsd_from_bce(np.full(200, 0.5), y) == pytest.approx(0.0, abs=1e-12)
    assert jsd_from_bce(y, y) == pytest.approx(1.0, abs=1e-5)


def test_temperature_calibration_recovers_a_known_temperature():
    gen = seeding.rng(7, "temp")
    z = gen.normal(0, 2, 200_000)
    y = (gen.random(z.size) < 1 / (1 + np.exp(-z))).astype(float)
    h = 1 / (1 + np.exp(-2.0 * z))  # overconfident by a factor 2 in the logit
    cal = fit_calibration("temperature", h, y)
    assert cal.temperature == pytest.approx(2.0, rel=0.05)


def test_isotonic_calibration_is_monotone_and_calibrated():
    gen = seeding.rng(8, "iso")
    h = gen.random(50_000)
    y = (gen.random(h.size) < h**2).astype(float)  # true probability h² (classes unbalanced)
    cal = fit_calibration("isotonic", h, y)
    grid = np.linspace(0, 1, 101)
    out = cal(grid)
    assert np.all(np.diff(out) >= 0) and out.min() >= 1e-6 and out.max() <= 1 - 1e-6
    # classes balanced as in training: p(truth | h) = h² w1 / (h² w1 + (1 − h²) w0)
    w = balanced_weights(y)
    w1, w0 = w[y == 1][0], w[y == 0][0]
    expected = grid**2 * w1 / (grid**2 * w1 + (1 - grid**2) * w0)
    inner = (grid > 0.2) & (grid < 0.95)
    np.testing.assert_allclose(out[inner], expected[inner], atol=0.05)
    with pytest.raises(ValueError, match="calibration"):
        fit_calibration("platt", h, y)


def test_weights_clip_cap_normalise_and_initial_weights(caplog):
    h = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    w, d = dctr_weights(h, WeightSettings(clip_epsilon=1e-3, cap=None, normalise=False))
    np.testing.assert_allclose(w, [1e-3 / (1 - 1e-3), 1 / 3, 1.0, 3.0, (1 - 1e-3) / 1e-3])
    w, d = dctr_weights(h, WeightSettings(clip_epsilon=1e-3, cap=2.0, normalise=False))
    assert d.n_capped == 2 and w.max() == 2.0
    w0, ratio = np.array([2.0, 1.0, 2.0]), np.array([1 / 3, 1.0, 3.0])
    w, d = dctr_weights(h[1:4], WeightSettings(normalise=True), initial_weights=w0)
    np.testing.assert_allclose(w, w0 * ratio * w0.sum() / np.sum(w0 * ratio))
    assert w.sum() == pytest.approx(w0.sum())  # mean weight = mean initial weight
    with caplog.at_level(logging.WARNING, logger="ganplify.dctr"):
        _, d = dctr_weights(
            np.r_[np.full(99, 0.5), 0.9999], WeightSettings(cap=None, normalise=False)
        )
    assert d.n_extreme == 1 and "exceed 100 x the median" in caplog.text
    assert d.median == 1.0 and d.max == pytest.approx(9999, rel=1e-6)


def test_balanced_weights_equalise_the_classes():
    y = np.array([1, 0, 0, 0])
    w = balanced_weights(y)
    assert w[y == 1].sum() == w[y == 0].sum() == 2.0
    with pytest.raises(ValueError, match="class 1"):
        balanced_weights(np.zeros(3))


def test_classifier_is_reproducible_and_stops_early():
    xt, xg = _samples(2000, "es")
    x, y = np.r_[xt, xg], np.r_[np.ones(2000), np.zeros(2000)]
    cfg = ClassifierConfig(hidden=(16,), epochs=200, batch_size=128, patience=3)
    a, b = (train_classifier(x, y, cfg, seed=11) for _ in range(2))
    np.testing.assert_array_equal(a.history, b.history)
    assert len(a.history) < 200 and a.best_epoch == int(np.argmin(a.history[:, 1]))


@pytest.mark.parametrize("make", [bimodal_1d, circle_8, grid_5x5])
def test_toy_densities_are_normalised_mixtures(make):
    toy = make()
    x = toy.sample(50_000, seeding.rng(9, "toy"))
    assert x.shape[1] == toy.dim
    if toy.dim == 1:
        grid = np.linspace(-4, 4, 8001)
        assert np.trapezoid(toy.pdf(grid[:, None]), grid) == pytest.approx(1.0, abs=1e-6)
    # the sample's nearest centres are used uniformly
    centres = np.asarray(toy.means)
    nearest = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    counts = np.bincount(nearest, minlength=len(centres))
    assert stats.chisquare(counts).pvalue > 1e-3


def test_the_statistical_floor_of_s2_matches_monte_carlo():
    """Two samples of one density: mean S² over replicas ≈ (B − 1)(1/n1 + 1/n2)/4."""
    from ganplify.dctr.metrics import expected_separation_power_of_equal_samples

    rng = seeding.rng(9, "s2-floor")
    edges = np.linspace(-2.5, 2.5, 20)  # 19 bins, all well populated
    for n1, n2 in ((600, 600), (2000, 500)):
        s2 = [separation_power(rng.normal(size=n1), rng.normal(size=n2), edges) for _ in range(400)]
        exact = expected_separation_power_of_equal_samples(n1, n2, 19)
        assert np.mean(s2) == pytest.approx(exact, rel=0.08)


def test_raking_recovers_a_product_form_ratio_exactly():
    """When p_T/p_G is a product of per-feature steps on the raking's bins, the factors of
    unweighted generated events are that ratio (up to the kept total): the one weight set of
    product form with the truth's marginals. Here the truth is the generated events themselves,
    each repeated a(x1)·b(x2) times, on four values each (every value ≥ 15 % of the truth: its
    own bin)."""
    from ganplify.dctr.raking import fit_rake_table

    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(4000, 2)).astype(float)
    # correlated generated events, so no single sweep is exact
    x[:, 1] = np.where(rng.random(4000) < 0.3, x[:, 0], x[:, 1])
    a, b = np.array([1, 2, 3, 2]), np.array([3, 1, 2, 2])
    exact = a[x[:, 0].astype(int)] * b[x[:, 1].astype(int)]
    truth = np.repeat(x, exact, axis=0)
    f = fit_rake_table(np.ones(len(x)), x, truth, bins=20, iterations=200).factor(x)
    np.testing.assert_allclose(f, exact * len(x) / exact.sum(), rtol=1e-8)
    assert f.sum() == pytest.approx(len(x))


def test_raking_gives_the_truth_marginals_and_leaves_a_matched_sample_alone():
    from ganplify.dctr.raking import fit_rake_table, marginal_edges

    def rake_factors(w, x_gen, x_truth, **kw):
        return fit_rake_table(w, x_gen, x_truth, **kw).factor(x_gen)

    rng = np.random.default_rng(4)
    cov = [[1.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 1.0]]
    x_truth = rng.multivariate_normal([0.0, 0.0, 0.0], cov, 5000)
    x_gen = rng.multivariate_normal([0.2, -0.1, 0.0], np.diag([1.4, 0.8, 1.0]), 6000)
    w = np.exp(0.3 * rng.standard_normal(6000))  # some classifier's weights
    f = rake_factors(w, x_gen, x_truth, bins=8, iterations=100)
    assert (w * f).sum() == pytest.approx(w.sum())
    for j, edges in enumerate(marginal_edges(x_truth, 8)):
        share_t = np.bincount(np.searchsorted(edges, x_truth[:, j], "right"), minlength=8)
        share_g = np.bincount(np.searchsorted(edges, x_gen[:, j], "right"), w * f, minlength=8)
        np.testing.assert_allclose(share_g / share_g.sum(), share_t / len(x_truth), atol=1e-7)
    # a generated sample that already has the truth's marginals is not touched
    np.testing.assert_allclose(
        rake_factors(np.ones(5000), x_truth, x_truth, bins=8, iterations=3), 1.0
    )


def test_raked_weights_are_capped_after_the_raking():
    """A raking factor (from a table fitted elsewhere) multiplies the capped ratio, which is
    capped again."""
    rng = np.random.default_rng(5)
    h = np.full(3000, 0.5)
    factors = np.exp(rng.normal(0.0, 0.5, 3000))
    settings = WeightSettings(cap=1.5)
    w, d = dctr_weights(h, settings, rake_factor=factors)
    raked = np.minimum(factors, 1.5)
    np.testing.assert_allclose(w, raked / raked.mean())
    assert d.n_capped == int(np.sum(factors > 1.5)) > 0
    # a stored normalisation, as a reweighter applies to new events
    w2, _ = dctr_weights(h, settings, rake_factor=factors, norm=2.0)
    np.testing.assert_allclose(w2, 2.0 * raked)
    with pytest.raises(ValueError, match="rake_bins"):
        WeightSettings(rake_bins=1)


def test_bin_indices_bin_as_numpy_histogram():
    """Every value lands where numpy.histogram puts it: on an inner edge in the bin above, on the
    last edge in the last bin, outside the edges or NaN in the dropped bin."""
    edges = np.linspace(-1.0, 1.0, 11)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-1.5, 1.5, 5000), edges, [np.nan, -np.inf, np.inf]])
    idx = bin_indices(x, edges)
    assert idx[-3:].tolist() == [10, 10, 10]
    counts = np.bincount(idx, minlength=11)[:-1]
    np.testing.assert_array_equal(counts, np.histogram(x[np.isfinite(x)], edges)[0])


def test_separation_power_ratio_errors_equal_a_histogram_per_replica():
    """The binned-once bootstrap gives what histogramming every replica from scratch gives."""
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=(3000, 2)), rng.normal(0.2, 1.2, size=(4000, 2))
    w2 = np.exp(rng.normal(0.0, 0.3, 4000))
    edges = [np.linspace(-3, 3, 21), np.linspace(-2, 2, 8)]
    got = separation_power_ratio_errors(
        x1, x2, edges, w2, n_replicas=20, rng=np.random.default_rng(9)
    )
    draw = np.random.default_rng(9)
    ratios = np.empty((20, 2))
    for r in range(20):
        p1, p2 = draw.poisson(1.0, 3000).astype(float), draw.poisson(1.0, 4000).astype(float)
        for j, e in enumerate(edges):
            plain = separation_power(x1[:, j], x2[:, j], e, w1=p1, w2=p2)
            ratios[r, j] = separation_power(x1[:, j], x2[:, j], e, w1=p1, w2=p2 * w2) / plain
    np.testing.assert_allclose(got, ratios.std(axis=0, ddof=1), rtol=1e-10)

"""The boosted-tree classifier kind: the exact density ratio, reproducibility, config errors.

As in test_dctr.py, the "generator" is a Gaussian mixture of known density, so the weights the
classifier should learn, p_T/p_G, are known exactly — here also in 2D, where the generator's modes
are displaced and too narrow (the weights must rise off the modes, as on the DCTR toys).
"""

import numpy as np
import pytest

from ganplify.core import seeding
from ganplify.core.config import ConfigError
from ganplify.dctr.boosted import BoostedConfig, bin_codes, quantile_edges, train_boosted
from ganplify.dctr.classifier import ClassifierConfig
from ganplify.dctr.classifiers import classifier_config, kind_of
from ganplify.dctr.crossfit import cross_fit
from ganplify.dctr.metrics import auc
from ganplify.dctr.weights import WeightSettings, dctr_weights
from ganplify.densities.toys import GaussianMixture, bimodal_1d

TRUTH = bimodal_1d()
GEN = TRUTH.shifted(0.15, 1.2)
# Smooth 1D ratios are what trees approximate worst (steps): fewer, larger leaves keep the steps'
# noise below the MLP's tolerance at 20,000 events, and so does stopping sooner (patience 10; the
# defaults reach 0.105, patience 30 alone 0.101).
TREES = BoostedConfig(max_iter=300, max_leaf_nodes=15, min_samples_leaf=100, patience=10)


def _bulk(truth, gen, x, grid):
    return (truth.pdf(x) > 0.01 * truth.pdf(grid).max()) & (gen.pdf(x) > 0.01 * gen.pdf(grid).max())


@pytest.mark.parametrize("calibration", ["none", "temperature"])
def test_boosted_weights_match_the_exact_density_ratio_in_1d(calibration):
    """The same tolerance as the MLP's test: median |w / w_exact − 1| < 0.1 in the bulk."""
    xt = TRUTH.sample(20_000, seeding.rng(1, "ratio", "t"))
    xg = GEN.sample(20_000, seeding.rng(1, "ratio", "g"))
    cf = cross_fit(xt, xg, TREES, folds=2, calibration=calibration, seed=3, identity=("b",))
    w, _ = dctr_weights(cf.h_gen, WeightSettings(cap=None, normalise=False))
    exact = TRUTH.pdf(xg) / GEN.pdf(xg)
    bulk = _bulk(TRUTH, GEN, xg, np.linspace(-4, 4, 4001)[:, None])
    assert bulk.mean() > 0.95
    assert np.median(np.abs(w[bulk] / exact[bulk] - 1)) < 0.1
    assert np.average(xg[:, 0], weights=w) == pytest.approx(xt[:, 0].mean(), abs=0.03)


def test_boosted_weights_match_the_exact_density_ratio_in_2d():
    """Four modes; the generator's are displaced by 0.05 and 30 % wider: within 15 % in the bulk,
    and the weighted events' second moments match the truth's."""
    means = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    truth = GaussianMixture.isotropic(means, 0.15)
    gen = GaussianMixture.isotropic([(a + 0.05, b) for a, b in means], 0.195)
    xt = truth.sample(40_000, seeding.rng(2, "2d", "t"))
    xg = gen.sample(40_000, seeding.rng(2, "2d", "g"))
    cf = cross_fit(xt, xg, TREES, folds=2, calibration="temperature", seed=4, identity=("2d",))
    w, _ = dctr_weights(cf.h_gen, WeightSettings(cap=None, normalise=False))
    exact = truth.pdf(xg) / gen.pdf(xg)
    g = np.linspace(-0.5, 1.5, 201)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    bulk = _bulk(truth, gen, xg, grid)
    assert bulk.mean() > 0.9
    assert np.median(np.abs(w[bulk] / exact[bulk] - 1)) < 0.15
    np.testing.assert_allclose(
        np.average((xg - xg.mean(0)) ** 2, axis=0, weights=w),
        ((xt - xt.mean(0)) ** 2).mean(0),
        rtol=0.05,
    )
    # and the classifier separates: AUC above the closure's 0.5
    y = np.r_[np.ones(len(xt)), np.zeros(len(xg))]
    assert auc(np.r_[cf.h_truth, cf.h_gen], y) > 0.6


def test_boosted_is_reproducible_stops_early_and_honours_sample_weights():
    xt = TRUTH.sample(4000, seeding.rng(3, "t"))
    xg = GEN.sample(4000, seeding.rng(3, "g"))
    x, y = np.r_[xt, xg], np.r_[np.ones(4000), np.zeros(4000)]
    cfg = BoostedConfig(max_iter=1000, patience=5)
    a, b = (train_boosted(x, y, cfg, seed=11) for _ in range(2))
    np.testing.assert_array_equal(a.predict(xg), b.predict(xg))
    assert a.model.n_iter_ < 1000  # early stopping on the validation split
    assert a.history.shape == (a.model.n_iter_ + 1, 2)
    c = train_boosted(x, y, cfg, seed=12)
    assert not np.array_equal(a.predict(xg), c.predict(xg))
    # exact weights on the generated class make the classes indistinguishable: h ≈ 1/2
    w = np.r_[np.ones(4000), TRUTH.pdf(xg) / GEN.pdf(xg)]
    d = train_boosted(x, y, cfg, seed=11, weights=w)
    assert abs(np.average(d.predict(x), weights=w) - 0.5) < 0.02


def test_unequal_class_sizes_give_the_same_ratio_by_prior_shift_or_by_weight():
    """Three generated events per truth event: unweighted, the classes are balanced by a logit
    shift of ln 3; with sample weights, by weight. Both estimate p_T/p_G (no factor 3)."""
    xt = TRUTH.sample(10_000, seeding.rng(5, "t"))
    xg = GEN.sample(30_000, seeding.rng(5, "g"))
    x, y = np.r_[xt, xg], np.r_[np.ones(len(xt)), np.zeros(len(xg))]
    shifted = train_boosted(x, y, TREES, seed=1)
    weighted = train_boosted(x, y, TREES, seed=1, weights=np.ones(len(y)))
    assert shifted.logit_offset == pytest.approx(np.log(3)) and weighted.logit_offset == 0
    exact = TRUTH.pdf(xg) / GEN.pdf(xg)
    bulk = _bulk(TRUTH, GEN, xg, np.linspace(-4, 4, 4001)[:, None])
    for fit in (shifted, weighted):
        h = fit.predict(xg)
        assert np.median(np.abs(h / (1 - h) / exact - 1)[bulk]) < 0.1


def test_classifier_config_reads_the_kind_and_names_bad_settings():
    assert isinstance(classifier_config({"kind": "boosted", "max_iter": 5}), BoostedConfig)
    mlp = classifier_config({"kind": "mlp", "hidden": [4], "epochs": 2})
    assert isinstance(mlp, ClassifierConfig) and mlp.hidden == (4,)
    assert kind_of(mlp) == "mlp"
    with pytest.raises(ConfigError, match="kind 'forest'"):
        classifier_config({"kind": "forest"})
    with pytest.raises(ConfigError, match="unknown setting.*hidden"):
        classifier_config({"kind": "boosted", "hidden": [4]})


def test_boosted_predicts_with_all_trees_or_those_up_to_the_lowest_validation_loss():
    """scikit-learn stops ``patience`` trees after the best: ``trees: all`` predicts with every
    tree, ``trees: best`` only with those up to the lowest validation loss; the same fit else."""
    xt = TRUTH.sample(4000, seeding.rng(6, "t"))
    xg = GEN.sample(4000, seeding.rng(6, "g"))
    x, y = np.r_[xt, xg], np.r_[np.ones(4000), np.zeros(4000)]
    best = train_boosted(x, y, BoostedConfig(max_iter=1000, patience=20, trees="best"), seed=2)
    every = train_boosted(x, y, BoostedConfig(max_iter=1000, patience=20), seed=2)
    assert best.n_trees == max(1, int(np.argmin(best.history[:, 1])))
    assert best.n_trees <= best.model.n_iter_ - 20  # it stopped early, 20 trees after its best
    assert every.n_trees == every.model.n_iter_ == best.model.n_iter_
    staged = list(best.model.staged_decision_function(bin_codes(xg, best.edges)))
    np.testing.assert_allclose(best.predict(xg), 1 / (1 + np.exp(-staged[best.n_trees - 1])))
    np.testing.assert_allclose(every.predict(xg), 1 / (1 + np.exp(-staged[-1])))
    assert not np.allclose(best.predict(xg), every.predict(xg))
    with pytest.raises(ValueError, match="trees 'last'"):
        BoostedConfig(trees="last")


def test_repeated_cross_fits_average_independent_fits_in_logit():
    """R repeats = the mean logit of R single cross-fits, repeat r seeded by ('repeat', r) added
    to the identity; repeat 0 is the single fit, whose folds the result keeps."""
    from dataclasses import replace

    from scipy.special import expit, logit

    xt = TRUTH.sample(3000, seeding.rng(7, "t"))
    xg = GEN.sample(3000, seeding.rng(7, "g"))
    one = replace(TREES, repeats=1)
    kw = dict(folds=2, calibration="none", seed=5)
    single = [
        cross_fit(xt, xg, one, identity=("r",) + (("repeat", r) if r else ()), **kw)
        for r in range(3)
    ]
    three = cross_fit(xt, xg, replace(TREES, repeats=3), identity=("r",), **kw)
    for key in ("h_gen", "h_truth", "raw_gen"):
        mean = expit(np.mean([logit(getattr(s, key)) for s in single], axis=0))
        np.testing.assert_allclose(getattr(three, key), mean, rtol=1e-12)
    np.testing.assert_array_equal(three.fold_gen, single[0].fold_gen)
    assert not np.array_equal(single[0].fold_gen, single[1].fold_gen)  # fresh folds per repeat
    assert len(three.histories) == len(three.calibrations) == 6
    # averaging independent fits takes the noise out of the weights: closer to the exact ratio
    exact = TRUTH.pdf(xg) / GEN.pdf(xg)
    rms = [np.sqrt(np.mean((logit(cf.h_gen) - np.log(exact)) ** 2)) for cf in (single[0], three)]
    assert rms[1] < 0.95 * rms[0]


def test_prebinning_gives_equal_count_bins_within_max_bins_and_keeps_discrete_values():
    """The trees see bin numbers: at most ``max_bins`` of them per feature, of about equal counts
    on a continuous feature, one per value on a discrete one, NaN kept (scikit-learn's own
    binning, found in one sort per feature)."""
    rng = np.random.default_rng(8)
    x = np.c_[rng.exponential(size=20_000), rng.integers(0, 7, 20_000), rng.normal(size=20_000)]
    x[::100, 2] = np.nan
    edges = quantile_edges(x, max_bins=50)
    codes = bin_codes(x, edges)
    counts = np.bincount(codes[:, 0].astype(int))
    assert len(counts) == 50 and counts.min() >= 390 and counts.max() <= 410  # 20,000 / 50
    np.testing.assert_array_equal(codes[:, 1], x[:, 1])  # values 0..6: their own bins, in order
    assert np.array_equal(np.isnan(codes[:, 2]), np.isnan(x[:, 2]))
    assert np.nanmax(codes[:, 2]) == 49
    order = np.argsort(x[:, 0])
    assert np.all(np.diff(codes[order, 0]) >= 0)  # monotone: a cut on codes is a cut on x
    # the fitted classifier bins before it predicts: events in one bin get one output
    y = (rng.random(20_000) < 0.5).astype(float)
    fit = train_boosted(x, y, BoostedConfig(max_iter=5, max_bins=50), seed=1)
    assert len(fit.edges[0]) == 49  # edges from the training events (not the validation's)
    same = x.copy()
    top = np.r_[fit.edges[0], np.inf]
    same[:, 0] = top[bin_codes(x, fit.edges)[:, 0].astype(int)]  # each x to its bin's top
    assert not np.array_equal(same[:, 0], x[:, 0])
    np.testing.assert_allclose(fit.predict(same), fit.predict(x))


def test_auto_repeats_average_more_fits_on_fewer_events():
    """``repeats: auto``: ceil(20,000 / N) cross-fits of N events, 1 to 3 — three on a few
    thousand showers, one on the toys' tens of thousands of events."""
    from dataclasses import replace

    from ganplify.dctr.boosted import auto_repeats

    assert [auto_repeats(n) for n in (1, 6000, 7000, 10_000, 10_001, 20_000, 40_000)] == [
        3,
        3,
        3,
        2,
        2,
        1,
        1,
    ]
    auto = replace(TREES, repeats="auto", max_iter=20)
    assert auto.repeats_for(6000) == 3 and replace(auto, repeats=2).repeats_for(6000) == 2
    for bad in (0, 1.5, "often"):
        with pytest.raises(ValueError, match="repeats"):
            replace(auto, repeats=bad)
    kw = dict(folds=2, calibration="none", seed=5, identity=("auto",))
    small = cross_fit(
        TRUTH.sample(500, seeding.rng(9, "t")), GEN.sample(500, seeding.rng(9, "g")), auto, **kw
    )
    large = cross_fit(
        TRUTH.sample(10_000, seeding.rng(9, "t")),
        GEN.sample(10_000, seeding.rng(9, "g")),
        auto,
        **kw,
    )
    assert len(small.histories) == 2 * 3 and len(large.histories) == 2 * 1


def test_a_cross_fit_of_trees_never_imports_torch():
    """The jobs of trees alone (most DCTR jobs, every closure) skip PyTorch's import (1.5 s of a
    6.4 s toy judge job); an MLP configured through the same entry point brings it in."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "import ganplify.jobs.dctr_toys, ganplify.jobs.calo_classifiers\n"
        "from ganplify.dctr.classifiers import classifier_config\n"
        "from ganplify.dctr.crossfit import cross_fit\n"
        "r = np.random.default_rng(1)\n"
        "cross_fit(r.normal(size=(400, 2)), r.normal(0.5, size=(400, 2)),\n"
        "          classifier_config({'kind': 'boosted'}), folds=2, calibration='none', seed=1)\n"
        "print('torch' in sys.modules)\n"
        "classifier_config({'kind': 'mlp'})\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]

"""The reweighter as a stored function, the judge with its controls, and the null test.

Truth and "generator" are Gaussian mixtures of known density (ganplify.densities.toys), so the
right weights p_T/p_G are known exactly; the null test's generator is the truth itself.
"""

import subprocess
import sys

import h5py
import numpy as np
import pytest
from scipy.special import expit

from ganplify.core import seeding
from ganplify.dctr import reweighter as rw_module
from ganplify.dctr.boosted import BoostedConfig, bin_codes, train_boosted
from ganplify.dctr.judge import JudgeConfig, judge
from ganplify.dctr.metrics import separation_power
from ganplify.dctr.raking import fit_rake_table
from ganplify.dctr.reweighter import ReweighterFileError, ReweighterSpec, fit, load
from ganplify.dctr.weights import WeightSettings
from ganplify.densities.toys import circle_8

TRUTH = circle_8()
GEN = TRUTH.shifted(0.05, 1.3)  # every mode moved by 0.05 and 30 % wider
TREES = {"kind": "boosted", "repeats": 1}
SPEC = ReweighterSpec(classifier=TREES, weights=WeightSettings(cap=50.0))


def _events(n, tag, density=TRUTH):
    return density.sample(n, seeding.rng(7, tag))


@pytest.fixture(scope="module")
def fitted():
    xt, xg = _events(3000, "t"), _events(3000, "g", GEN)
    rw, cf = fit(xt, xg, SPEC, seed=5, identity=("test",), features=["x1", "x2"])
    return xt, xg, rw, cf


def test_the_trees_predict_as_scikit_learn_bit_for_bit():
    """The stored trees (plain arrays) give scikit-learn's decision function exactly, with NaNs
    and with the trees up to the lowest validation loss."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    x[rng.random(x.shape) < 0.02] = np.nan
    y = (x[:, 0] + rng.normal(size=2000) > 0).astype(float)
    for cfg in (BoostedConfig(), BoostedConfig(trees="best"), BoostedConfig(early_stopping=False)):
        t = train_boosted(x, y, cfg, seed=1)
        codes = bin_codes(x, t.edges)
        n = t.n_trees or t.model.n_iter_
        staged = list(t.model.staged_decision_function(codes))
        np.testing.assert_array_equal(t.trees.decision(codes, t.n_trees), staged[n - 1])
        np.testing.assert_array_equal(t.predict(x), expit(staged[n - 1] + t.logit_offset))


def test_a_judge_grows_every_tree_and_the_reweighter_stops_early():
    x = _events(2000, "a")
    y = np.r_[np.ones(1000), np.zeros(1000)]  # one density: the validation loss never falls
    stopped = train_boosted(x, y, BoostedConfig(trees="best"), seed=2)
    fixed = train_boosted(x, y, JudgeConfig(trees=40).boosted(), seed=2)
    assert stopped.n_trees < 5  # early stopping would leave a judge almost no trees
    assert fixed.trees.n_trees == 40 and fixed.n_trees is None


def test_the_fit_s_weights_are_the_stored_function_s_per_fold(fitted):
    """Each generated event's weight is its own fold's classifier's (out of fold), bit for bit,
    and the stored function weights other events with every fold's classifier."""
    xt, xg, rw, cf = fitted
    np.testing.assert_array_equal(rw.h(xg, cf.repeat_fold_gen), cf.h_gen)
    w, diag = rw.weights(xg, folds=cf.repeat_fold_gen)
    assert w.mean() == pytest.approx(1.0, abs=1e-12) and diag.n == 3000
    for f in range(2):
        idx = cf.fold_gen == f
        alone, _ = rw.weights(xg[idx], folds=np.full(idx.sum(), f))
        np.testing.assert_array_equal(alone, w[idx])
    new = _events(2000, "new", GEN)
    h_new = rw.h(new)
    members = [expit(np.mean([np.log(h / (1 - h)) for h in (m.h(new) for m in rw.members)], 0))]
    np.testing.assert_allclose(h_new, members[0], rtol=1e-12)


def test_stored_weights_approach_the_exact_ratio_on_new_events(fitted):
    """On events no fitting step saw, the weights follow p_T/p_G (median deviation < 25 % where
    both densities are large; 3,000 events a class)."""
    _, _, rw, _ = fitted
    new = _events(20000, "new2", GEN)
    w, _ = rw.weights(new)
    exact = TRUTH.pdf(new) / GEN.pdf(new)
    bulk = (TRUTH.pdf(new) > 0.05 * TRUTH.pdf(new).max()) & (
        GEN.pdf(new) > 0.05 * GEN.pdf(new).max()
    )
    ratio = w[bulk] / exact[bulk]
    assert np.median(np.abs(ratio / np.median(ratio) - 1)) < 0.25


@pytest.mark.parametrize("kind", ["boosted", "mlp"])
def test_a_saved_reweighter_loads_in_a_fresh_process(tmp_path, kind):
    """Saved, then loaded by another Python process: the same weights, bit for bit."""
    xt, xg = _events(1500, "t2"), _events(1500, "g2", GEN)
    classifier = TREES if kind == "boosted" else {"kind": "mlp", "hidden": [16, 16], "epochs": 5}
    spec = ReweighterSpec(classifier=classifier, calibration="temperature", weights=SPEC.weights)
    rw, cf = fit(xt, xg, spec, seed=3, identity=(kind,), features=["x1", "x2"])
    path = tmp_path / "reweighter.h5"
    rw.save(path)
    np.save(tmp_path / "x.npy", xg)
    np.save(tmp_path / "folds.npy", cf.repeat_fold_gen)
    script = (
        "import numpy as np, torch; torch.set_num_threads(1)\n"
        "from ganplify.dctr.reweighter import load\n"
        f"rw = load({str(path)!r}, features=['x1', 'x2'])\n"
        f"x = np.load({str(tmp_path / 'x.npy')!r}); f = np.load({str(tmp_path / 'folds.npy')!r})\n"
        f"np.save({str(tmp_path / 'w.npy')!r}, rw.weights(x, folds=f)[0])\n"
        f"np.save({str(tmp_path / 'new.npy')!r}, rw.weights(x)[0])\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    import torch

    torch.set_num_threads(1)
    np.testing.assert_array_equal(
        np.load(tmp_path / "w.npy"), rw.weights(xg, folds=cf.repeat_fold_gen)[0]
    )
    np.testing.assert_array_equal(np.load(tmp_path / "new.npy"), rw.weights(xg)[0])


def test_the_stored_reweighter_knows_which_events_it_was_fitted_on(tmp_path, fitted):
    xt, xg, rw, _ = fitted
    path = tmp_path / "rw.h5"
    rw.save(path)
    loaded = load(path)
    assert loaded.seen(xg).all()
    assert not loaded.seen(xt).any() and not loaded.seen(_events(3000, "new", GEN)).any()
    nudged = xg.copy()
    nudged[::2, 1] = np.nextafter(nudged[::2, 1], np.inf)  # one ulp in one input
    np.testing.assert_array_equal(loaded.seen(nudged), np.arange(len(xg)) % 2 == 1)


def test_a_changed_or_mismatched_reweighter_file_is_refused(tmp_path, fitted):
    _, _, rw, _ = fitted
    path = tmp_path / "rw.h5"
    rw.save(path)
    assert load(path, features=["x1", "x2"]).norm == rw.norm
    with pytest.raises(ValueError, match=r"shape \(5, 3\): this reweighter takes 2 inputs"):
        rw.h(np.zeros((5, 3)))  # events of another width, whatever their names
    with pytest.raises(ReweighterFileError, match=r"rw\.h5.*column 1 \('x2' in the file, 'y'"):
        load(path, features=["x1", "y"])
    with h5py.File(path, "a") as f:
        f["members/0/trees/value"][0] += 1.0  # one leaf changed
    with pytest.raises(ReweighterFileError, match=r"rw\.h5: its contents do not match"):
        load(path)
    rw.save(path)
    with h5py.File(path, "a") as f:
        f.attrs["ganplify_version"] = "0.0.1"
    with pytest.raises(ReweighterFileError, match="checksum|0.0.1"):
        load(path)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ReweighterFileError, match=r"junk\.h5: not a readable"):
        load(tmp_path / "junk.h5")


def test_raking_tables_never_see_the_events_they_weight():
    """The table that weights fold 0's events is fitted on fold 1 alone: changing fold 0's
    events changes neither it nor fold 1's own classifier's training set's table."""
    xt, xg = _events(1200, "rt"), _events(1200, "rg", GEN)
    spec = ReweighterSpec(classifier=TREES, weights=WeightSettings(cap=50.0, rake_bins=5))
    rw, cf = fit(xt, xg, spec, seed=4, identity=("rake",))
    moved = xg.copy()
    moved[cf.fold_gen == 0] += 0.3
    rw2, cf2 = fit(xt, moved, spec, seed=4, identity=("rake",))
    np.testing.assert_array_equal(cf.fold_gen, cf2.fold_gen)
    for a, b in zip(rw.rake_folds[0].factors, rw2.rake_folds[0].factors, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(rw.rake_folds[1].factors, rw2.rake_folds[1].factors, strict=True)
    )


def test_the_judge_sees_a_difference_and_its_controls_do_not():
    """A judge that called every pair of samples alike (AUC 0.5 for any input) fails here: the
    generator's events are told from the truth; with the exact weights they are not; the null
    control (truth against truth with those weights) is 0.5 within its errors."""
    xe, xg = _events(2500, "je"), _events(2500, "jg", GEN)
    exact = TRUTH.pdf(xg) / GEN.pdf(xg)
    result, outputs = judge(xe, xg, exact / exact.mean(), JudgeConfig(), seed=1, identity=("j",))
    assert result.auc_unweighted > 0.6
    assert abs(result.auc - 0.5) < 4 * result.auc_err + 0.01
    assert abs(result.auc_null - 0.5) < 4 * result.auc_null_err + 0.01
    assert result.trees == 100 and len(outputs["null/weights"]) == 1250
    # and wrong weights are caught
    flat = np.ones(len(xg))
    flat[GEN.pdf(xg) > np.median(GEN.pdf(xg))] = 3.0
    wrong, _ = judge(xe, xg, flat / flat.mean(), JudgeConfig(), seed=1, identity=("j",))
    assert wrong.auc > result.auc + 10 * wrong.auc_err


def test_the_null_test_shows_no_gain_where_in_sample_raking_would():
    """Generator = a second sample of the truth. Judged on evaluation events no fitting step saw,
    the reweighter gains nothing: the marginals' S² is at its unweighted value or above (the
    weights only dilute), and the judge is at 0.5. Raking the same weights *in sample* — to the
    truth's marginals on the very events that are scored — would report a gain: S² falls
    several-fold (here in the histograms' own bins). That is the number this protocol never
    reports."""
    xt, xg = _events(3000, "nt"), _events(3000, "ng")
    xe, xge = _events(3000, "ne"), _events(3000, "nge")  # evaluation truth and generated
    rw, _ = fit(xt, xg, SPEC, seed=6, identity=("null",))
    w, _ = rw.weights(xge)
    edges = [np.quantile(xe[:, j], np.linspace(0, 1, 11)) for j in range(2)]

    def s2(x, weights):
        return np.mean(
            [separation_power(xe[:, j], x[:, j], edges[j], w2=weights) for j in range(2)]
        )

    ratio = s2(xge, w) / s2(xge, None)
    assert ratio > 0.7  # no gain (the dilution raises it)
    result, _ = judge(xe, xge, w, JudgeConfig(), seed=2, identity=("null",))
    assert abs(result.auc - 0.5) < 4 * result.auc_err + 0.01
    in_sample = w * fit_rake_table(w, xge, xe, bins=10, iterations=50).factor(xge)
    assert s2(xge, in_sample) / s2(xge, None) < 0.1


def test_spec_errors_name_the_key():
    from ganplify.core.config import ConfigError

    with pytest.raises(ConfigError, match="unknown key"):
        ReweighterSpec.from_mapping({"classifier": TREES, "fold": 2})
    with pytest.raises(ConfigError, match="folds"):
        ReweighterSpec.from_mapping({"classifier": TREES, "folds": 1})
    spec = ReweighterSpec.from_mapping(SPEC.as_dict())
    assert spec == SPEC
    assert rw_module.FORMAT.startswith("ganplify-reweighter/")

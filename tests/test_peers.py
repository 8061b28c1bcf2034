"""The peer reweighters of benchmarks/reweighter_peers.py are fair opponents: each estimates
p_T/p_G (not its inverse), honours the fold count it is given and is reproducible under its seed —
checked on Gaussian modes of known density, as in test_boosted.py.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from ganplify.core import seeding
from ganplify.densities.toys import GaussianMixture

pytest.importorskip("hep_ml")

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "reweighter_peers.py"
_spec = importlib.util.spec_from_file_location("reweighter_peers", _PATH)
peers = importlib.util.module_from_spec(_spec)
sys.modules["reweighter_peers"] = peers  # its dataclasses look their module up
_spec.loader.exec_module(peers)

MEANS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
TRUTH = GaussianMixture.isotropic(MEANS, 0.15)
GEN = GaussianMixture.isotropic([(a + 0.05, b) for a, b in MEANS], 0.195)


@pytest.fixture(scope="module")
def events():
    xt = TRUTH.sample(8_000, seeding.rng(5, "peers", "t"))
    xg = GEN.sample(8_000, seeding.rng(5, "peers", "g"))
    return xt, xg


FITTERS = {"sklearn-hgb": "sklearn_fit", "hep_ml-gb": "hep_ml_fit"}


@pytest.mark.parametrize("name", list(FITTERS))
def test_peer_ratios_estimate_the_density_ratio_and_honour_the_folds(events, name):
    """Out of fold on the fitting events and as a stored function on new ones, each peer's ratio
    follows p_T/p_G (not its inverse), and the fold count reaches its fits."""
    xt, xg = events
    fit = getattr(peers, FITTERS[name])
    new_events = GEN.sample(4_000, seeding.rng(5, "peers", "new"))
    by_folds = {}
    for folds in (2, 5):
        oof, new = fit(xt, xg, 11, folds, "test")
        for x, w in ((xg, oof), (new_events, new(new_events))):
            exact = TRUTH.pdf(x) / GEN.pdf(x)
            assert w.shape == (len(x),) and np.all(np.isfinite(w)) and np.all(w > 0)
            assert w.mean() == pytest.approx(1.0, abs=0.2)
            # rank agreement with the exact ratio: an inverted ratio would give a negative one
            rank = np.corrcoef(np.argsort(np.argsort(w)), np.argsort(np.argsort(exact)))[0, 1]
            assert rank > 0.5
            # the generator is too wide: the weighted spread comes closer to the truth's
            spread = lambda x, wt: np.average((x - x.mean(0)) ** 2, axis=0, weights=wt)  # noqa: E731
            before = np.abs(spread(x, None) - spread(xt, None)).sum()
            after = np.abs(spread(x, w) - spread(xt, None)).sum()
            assert after < 0.5 * before
        by_folds[folds] = oof
    assert not np.array_equal(by_folds[2], by_folds[5])
    # seeded: a rerun is identical
    np.testing.assert_array_equal(fit(xt, xg, 11, 2, "test")[0], by_folds[2])


def test_every_peer_gets_the_same_post_processing(events):
    """Cap, then (with raking) a table fitted on the fitting events only, capped again,
    normalised on the fitting events: the evaluation weights of a flat ratio are flat, and a
    raking table changes them only through the fitting events."""
    xt, xg = events
    ev = peers.Events(xt, xg, xt, xg, xt, xg, ["x1", "x2"], np.array([1, 1], bool), [])
    flat = np.ones(len(xg))
    np.testing.assert_allclose(peers.post_process(flat, flat, ev, 50.0, None), 1.0)
    raked = peers.post_process(flat, flat, ev, 50.0, 5)
    assert raked.std() > 0.05 and np.max(raked) <= 50.0 * len(xg) / flat.sum() + 1e-9

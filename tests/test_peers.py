"""The peer reweighters of benchmarks/reweighter_peers.py are fair opponents: each estimates
p_T/p_G (not its inverse), honours the fold count it is given and is reproducible under its seed —
checked on Gaussian modes of known density, as in test_boosted.py.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ganplify.core import seeding
from ganplify.densities.toys import GaussianMixture

pytest.importorskip("hep_ml")

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "reweighter_peers.py"
_spec = importlib.util.spec_from_file_location("reweighter_peers", _PATH)
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)

MEANS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
TRUTH = GaussianMixture.isotropic(MEANS, 0.15)
GEN = GaussianMixture.isotropic([(a + 0.05, b) for a, b in MEANS], 0.195)


@pytest.fixture(scope="module")
def events():
    xt = TRUTH.sample(8_000, seeding.rng(5, "peers", "t"))
    xg = GEN.sample(8_000, seeding.rng(5, "peers", "g"))
    return xt, xg


def _makers(xt, xg, folds):
    return {
        "sklearn-hgb": lambda: peers.sklearn_weights(xt, xg, None, 11, folds),
        "hep_ml-gb": lambda: peers.hep_ml_weights(xt, xg, 11, folds),
    }


@pytest.mark.parametrize("name", ["sklearn-hgb", "hep_ml-gb"])
def test_peer_weights_estimate_the_density_ratio_and_honour_the_folds(events, name):
    xt, xg = events
    exact = TRUTH.pdf(xg) / GEN.pdf(xg)
    by_folds = {}
    for folds in (2, 5):
        w = _makers(xt, xg, folds)[name]()
        assert w.shape == (len(xg),) and np.all(np.isfinite(w)) and np.all(w > 0)
        assert w.mean() == pytest.approx(1.0, abs=0.15)
        # rank agreement with the exact ratio: an inverted ratio would give a negative one
        rank = np.corrcoef(np.argsort(np.argsort(w)), np.argsort(np.argsort(exact)))[0, 1]
        assert rank > 0.5
        # the generator is too wide: the weighted spread comes closer to the truth's
        spread = lambda x, wt: np.average((x - x.mean(0)) ** 2, axis=0, weights=wt)  # noqa: E731
        before = np.abs(spread(xg, None) - spread(xt, None)).sum()
        after = np.abs(spread(xg, w) - spread(xt, None)).sum()
        assert after < 0.5 * before
        by_folds[folds] = w
    # the fold count reaches the fits: other folds, other models, other weights
    assert not np.array_equal(by_folds[2], by_folds[5])


def test_timed_runs_every_fit_and_rejects_an_unseeded_reweighter(events):
    xt, xg = events
    w, cpu = peers.timed(_makers(xt, xg, 5)["hep_ml-gb"], 2)
    assert cpu > 0 and len(w) == len(xg)
    rng = np.random.default_rng()
    with pytest.raises(RuntimeError, match="not seeded"):
        peers.timed(lambda: rng.random(3), 2)

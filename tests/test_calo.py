"""The calorimeter: simulator against the paper's showers, observables on hand-built showers, the
file formats and every kind of bad file."""

import h5py
import numpy as np
import pytest

from ganplify.calo import formats
from ganplify.calo.features import GROUPS, HL_FEATURES, OBSERVABLES, hl_inputs, observables
from ganplify.calo.geometry import ILD, Calorimeter
from ganplify.calo.simulator import FASTSIM, simulate, simulate_chunk
from ganplify.core import seeding
from ganplify.dctr.metrics import separation_power


@pytest.fixture(scope="module")
def truth_showers():
    return simulate(2000, seeding.rng(1, "calo-test", "truth"))


def test_simulator_reproduces_the_papers_showers(truth_showers):
    """On 2,000 showers of 50 GeV photons: the tuned means (README: 751 hit cells, 794 MeV visible,
    centroid 13.73; the paper's Geant4 showers ≈ 780 hits), each within 5 standard errors of the
    mean over 2,000 showers (1.2 hits, 0.70 MeV, 0.024 layers): a 1 % change in the simulator
    fails, another seed passes."""
    obs = observables(truth_showers)
    n_hit, centroid, e_vis = obs[:, 0], obs[:, 1], obs[:, 2]
    sem = {k: v.std() / np.sqrt(len(v)) for k, v in (("n", n_hit), ("e", e_vis), ("c", centroid))}
    assert n_hit.mean() == pytest.approx(751.3, abs=5 * sem["n"])
    assert e_vis.mean() == pytest.approx(793.9, abs=5 * sem["e"])
    assert centroid.mean() == pytest.approx(13.73, abs=5 * sem["c"])
    profile = truth_showers.sum(axis=(0, 2, 3))
    assert 9 <= int(np.argmax(profile)) <= 14
    # cells below the threshold are zeroed; energies in MeV, float32, the grid's shape
    nonzero = truth_showers[truth_showers > 0]
    assert nonzero.min() >= ILD.threshold_mev and truth_showers.dtype == np.float32
    assert truth_showers.shape == (2000, 30, 30, 30)
    # the photon hits the centre of the face, a corner of four cells: flips are symmetries
    x_profile = truth_showers.sum(axis=(0, 1, 3))[8:22]  # the core: the tails are few spots
    np.testing.assert_allclose(x_profile, x_profile[::-1], rtol=0.03)


def test_chunks_are_reproducible_alone_and_distinct():
    a = simulate(20, seeding.rng(3, "calorimeter", "truth", "chunk", 4))
    b = simulate(20, seeding.rng(3, "calorimeter", "truth", "chunk", 4))
    c = simulate(20, seeding.rng(3, "calorimeter", "truth", "chunk", 5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    batches = list(simulate_chunk(25, seeding.rng(3, "x"), batch=10))
    assert [len(s) for s in batches] == [10, 10, 5]


def test_fastsim_is_too_shallow_broader_and_in_the_s2_band(truth_showers):
    """The stand-in generator: median S² over the 33 HL inputs in [0.01, 0.3]; shallower
    showers and a broader hit-count distribution, like the paper's GAN."""
    gen = observables(simulate(2000, seeding.rng(1, "calo-test", "gen"), model=FASTSIM))
    truth = observables(truth_showers)
    s2 = []
    for j in range(len(HL_FEATURES)):
        lo, hi = np.quantile(truth[:, j], [0.001, 0.999])
        s2.append(separation_power(truth[:, j], gen[:, j], np.linspace(lo, hi, 20)))
    assert 0.01 <= np.median(s2) <= 0.3
    assert gen[:, 1].mean() < truth[:, 1].mean()  # centroid: shallower
    assert gen[:, 0].std() > 1.2 * truth[:, 0].std()  # hit count: broader
    # overlapping support: every truth shower's hit count lies within the generator's range
    assert gen[:, 0].min() < np.quantile(truth[:, 0], 0.01)
    assert gen[:, 0].max() > np.quantile(truth[:, 0], 0.99)


def test_geometry_numbers():
    assert ILD.slab_edges_x0[-1] == pytest.approx(20 * 2.1 / 3.503 + 10 * 4.2 / 3.503, rel=0.01)
    assert 0.039 < ILD.mip_fraction[0] < 0.041 and 0.020 < ILD.mip_fraction[-1] < 0.021
    with pytest.raises(ValueError, match="absorber"):
        Calorimeter(n_layers=3)


def test_observables_of_a_hand_built_shower():
    s = np.zeros((1, 30, 30, 30), dtype=np.float32)
    s[0, 3, 10, 12] = 1.0
    s[0, 3, 12, 12] = 3.0
    s[0, 8, 5, 5] = 2.0
    o = dict(zip(OBSERVABLES, observables(s)[0], strict=True))
    assert o["n_hit"] == 3 and o["e_vis"] == 6.0
    assert o["centroid"] == pytest.approx((4 * 4 + 9 * 2) / 6)  # layers counted from 1
    assert o["e_layer_3"] == 4.0 and o["e_layer_8"] == 2.0 and o["e_layer_0"] == 0.0
    assert o["e_layer_3_minus_4"] == 4.0 and o["e_layer_2_minus_3"] == -4.0
    assert o["e_layer_4_minus_8"] == -2.0 and o["e_layer_3_minus_7"] == 4.0
    # x: mean (10·1 + 12·3)/4 = 11.5, variance (1·1.5² + 3·0.5²)/4 = 0.75; y: one column
    assert o["x2_layer_3"] == pytest.approx(0.75) and o["y2_layer_3"] == 0.0
    assert o["x2_layer_8"] == 0.0 and o["x2_layer_0"] == 0.0  # one cell; an empty layer
    hl = hl_inputs(observables(s))[0]
    assert hl.shape == (33,) and hl[0] == 3 / 1000 and hl[2] == 6 / 1000 and hl[6] == 4 / 1000
    assert len(OBSERVABLES) == 33 + 29 + 26 + 60 and len(HL_FEATURES) == 33
    assert {GROUPS[n] for n in OBSERVABLES} == {"hl", "layer_diff", "x2", "y2"}


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_formats_round_trip_in_chunks(tmp_path, fmt):
    showers = simulate(30, seeding.rng(4, "fmt"))
    path = tmp_path / f"{fmt}.h5"
    with formats.ShowerWriter(path, fmt, chunk_showers=8, attrs={"seed": 4}) as w:
        w.append(np.full(20, 50.0), showers[:20])
        w.append(np.full(10, 50.0), showers[20:])
    source = formats.validate(path)
    assert source.format == fmt and source.n_showers == 30
    chunks = list(formats.iter_showers(source, chunk=7))
    assert [len(e) for e, _ in chunks] == [7, 7, 7, 7, 2]
    np.testing.assert_array_equal(np.concatenate([s for _, s in chunks]), showers)
    np.testing.assert_allclose(np.concatenate([e for e, _ in chunks]), 50.0)  # GeV either way
    with h5py.File(path) as f:
        ds = f[source.shower_dataset]
        assert ds.chunks[0] == 8 and ds.compression == "gzip"
        if fmt == formats.CALOCHALLENGE:
            assert ds.shape == (30, 27000) and f["incident_energies"][0, 0] == 50_000.0
        else:
            assert ds.shape == (30, 30, 30, 30) and f["30x30/energy"][0, 0] == 50.0
    part = list(formats.iter_showers(source, chunk=4, start=5, stop=11))
    np.testing.assert_array_equal(np.concatenate([s for _, s in part]), showers[5:11])


def test_a_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "x.h5"
    with pytest.raises(RuntimeError), formats.ShowerWriter(path) as w:
        w.append([50.0], np.zeros((1, 30, 30, 30)))
        raise RuntimeError("killed")
    assert not path.exists() and not list(tmp_path.iterdir())


def _getting_high(path, energies, layers):
    with h5py.File(path, "w") as f:
        g = f.create_group("30x30")
        g["energy"], g["layers"] = energies, layers


def _bad_files(tmp_path):
    ok = np.zeros((3, 30, 30, 30), dtype=np.float32)
    ok[:, 5, 15, 15] = 10.0
    e = np.full((3, 1), 50.0)
    cases = {}

    def case(name, dataset, problem, make):
        path = tmp_path / f"{name}.h5"
        make(path)
        cases[name] = (path, dataset, problem)

    case("no_group", None, "neither", lambda p: h5py.File(p, "w").close())
    case(
        "no_layers",
        "30x30/layers",
        "missing",
        lambda p: h5py.File(p, "w").create_group("30x30").create_dataset("energy", data=e),
    )
    case("wrong_shape", "30x30/layers", "shape", lambda p: _getting_high(p, e, ok[:, :, :20]))
    case("counts", "30x30/layers", "2 showers but 3", lambda p: _getting_high(p, e, ok[:2]))
    nan = ok.copy()
    nan[1, 0, 0, 0] = np.nan
    case("nan", "30x30/layers", "NaN or inf", lambda p: _getting_high(p, e, nan))
    inf = ok.copy()
    inf[2, 0, 0, 0] = np.inf
    case("inf", "30x30/layers", "NaN or inf", lambda p: _getting_high(p, e, inf))
    neg = ok.copy()
    neg[0, 1, 1, 1] = -1.0
    case("negative", "30x30/layers", "negative", lambda p: _getting_high(p, e, neg))
    case("negative_energy", "30x30/energy", "negative", lambda p: _getting_high(p, -e, ok))

    def voxels(p):
        with h5py.File(p, "w") as f:
            f["incident_energies"], f["showers"] = e * 1000, np.zeros((3, 6480))

    case("voxels", "showers", "6480 voxels", voxels)
    case("not_hdf5", None, "not a readable HDF5", lambda p: p.write_text("hello"))
    return cases


def test_every_bad_file_is_named_with_its_dataset(tmp_path):
    for name, (path, dataset, problem) in _bad_files(tmp_path).items():
        with pytest.raises(formats.ShowerFileError) as err:
            formats.validate(path)
        message = str(err.value)
        assert str(path) in message and problem in message, (name, message)
        assert err.value.dataset == dataset, (name, err.value.dataset)
    with pytest.raises(formats.ShowerFileError, match="no such file"):
        formats.inspect(tmp_path / "missing.h5")

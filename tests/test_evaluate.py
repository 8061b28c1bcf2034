"""``ganplify evaluate`` on small files written exactly as CaloChallenge distributes them, the
challenge's classifier metric against exact results, and its histograms' binning."""

import tomllib

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO

from ganplify.calo import challenge_features as cf
from ganplify.calo.challenge import Spectrum, dataset_geometry
from ganplify.calo.simulator import FASTSIM, TRUTH, simulate_sample
from ganplify.cli import evaluate as ev
from ganplify.cli.main import main
from ganplify.core import seeding
from ganplify.dctr import challenge_classifier as cc
from ganplify.dctr.metrics import separation_power

#: low energies of dataset 1's spectrum: the simulator is fast there
LOW = Spectrum("discrete", (1.024, 2.048, 4.096, 8.192))
#: the classifier small and short (the challenge's network is tested on its own below)
FAST = ["--cls-n-epochs", "2", "--cls-n-hidden", "64", "--quiet", "--threads", "1"]


def challenge_file(path, energies_mev, showers, *, showers_dtype="f8"):
    """A file as the challenge distributes it: gzip-compressed ``incident_energies`` (N, 1) in
    MeV and ``showers`` (N, voxels) in MeV; dataset 1's notebook writes both as float64 (from
    CSV), datasets 2 and 3 carry float32 showers."""
    with h5py.File(path, "w") as f:
        e = np.asarray(energies_mev, dtype="f8").reshape(-1, 1)
        f.create_dataset("incident_energies", data=e, compression="gzip")
        f.create_dataset("showers", data=np.asarray(showers, showers_dtype), compression="gzip")
    return path


def simulated(path, n, model, seed, name="dataset1-photons", spectrum=LOW):
    g = dataset_geometry(name)
    parts = list(
        simulate_sample(n, seeding.rng(seed, str(path)), spectrum, model=model, calorimeter=g)
    )
    e = 1000.0 * np.concatenate([p[0] for p in parts])
    s = np.concatenate([p[1] for p in parts]).reshape(n, -1)
    dtype = "f8" if name.startswith("dataset1") else "f4"
    return challenge_file(path, e, s, showers_dtype=dtype)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("evaluate")
    return {
        "reference": simulated(d / "reference.h5", 300, TRUTH, 1),
        "generated": simulated(d / "generated.h5", 240, FASTSIM, 2),
    }


def _scores(out) -> pd.DataFrame:
    return pd.read_csv(out / "scores.csv")


def test_evaluate_writes_every_metric_and_its_figures(files, tmp_path):
    out = tmp_path / "eval"
    argv = ["evaluate", "-r", str(files["reference"]), "-i", str(files["generated"])]
    assert main([*argv, "-d", "1-photons", "--out", str(out), *FAST]) == 0
    scores = _scores(out)
    expected = {
        "s2_median",
        "fpd_x1e3",
        "kpd_x1e3",
        "judge_auc",
        *(f"{m}_{k}" for m in ("cls-high", "cls-low") for k in ("auc", "jsd", "auc_uncalibrated")),
        *(f"prdc_{k}" for k in ("precision", "recall", "density", "coverage")),
    }
    assert set(scores.metric) == expected and not scores.weighted.any()
    assert (scores.n_reference == 300).all() and (scores.n_generated == 240).all()
    value = dict(zip(scores.metric, scores.value, strict=True))
    for key in ("judge_auc", "cls-high_auc", "cls-low_auc", "prdc_precision", "prdc_recall"):
        assert 0 <= value[key] <= 1, key
    # FASTSIM's showers are shallower: the judge and the distances see it
    assert value["judge_auc"] > 0.6 and value["fpd_x1e3"] > 0
    # the challenge's split of 240 showers a class (the shorter file): 60 / 20 / 20 %
    note = scores.set_index("metric").loc["cls-high_auc", "note"]
    assert "train/test/validation 144/48/48" in note
    for name in (
        "s2.png",
        "histograms_energy.png",
        "histograms_centre.png",
        "classifier_cls-high.png",
        "classifier_cls-low_history.csv",
    ):
        assert (out / name).stat().st_size > 0, name

    # S² per feature: the challenge's histograms, computed again from the files by hand
    g = dataset_geometry("dataset1-photons")
    s2 = pd.read_csv(out / "s2.csv").set_index("feature")
    with h5py.File(files["reference"]) as f:
        ref = cf.features(f["showers"][()], g)
    with h5py.File(files["generated"]) as f:
        gen = cf.features(f["showers"][()], g)
    column = cf.feature_names(g)[0].index("eta_centre_2")
    edges = np.linspace(-100, 100, 101)
    assert s2.loc["eta_centre_2", "n_bins"] == 100
    assert s2.loc["eta_centre_2", "s2"] == pytest.approx(
        separation_power(ref[:, column], gen[:, column], edges), rel=1e-6
    )
    assert {"e_tot_over_e_inc", "voxel_energy", "e_tot_over_e_inc_at_1024MeV"} <= set(s2.index)


def test_the_judge_is_the_workflows_own(files, tmp_path):
    """The tree judge's AUC is what the workflow's judge (ganplify.dctr.judge, dctr.judge of the
    config) gives on the same vectors."""
    from ganplify.dctr.judge import JudgeConfig, judge_auc

    out = tmp_path / "eval"
    argv = ["evaluate", "-r", str(files["reference"]), "-i", str(files["generated"])]
    main([*argv, "-d", "1-photons", "--out", str(out), "--metrics", "judge", *FAST, "--no-figures"])
    g = dataset_geometry("dataset1-photons")

    def vectors(path):
        with h5py.File(path) as f:
            s, e = f["showers"][()].astype(np.float32), f["incident_energies"][:, 0] / 1000
        return cf.cls_high(cf.features(s, g), e, g)

    cfg = JudgeConfig.from_config(ev.judge_from_config(REPO / "config.yaml"))
    auc, err, _ = judge_auc(
        vectors(files["reference"]),
        vectors(files["generated"]),
        None,
        cfg,
        seed=2008065,
        identity=("evaluate", "judge", "unweighted"),
    )
    row = _scores(out).set_index("metric").loc["judge_auc"]
    assert row.value == auc and row.error == pytest.approx(err)


def test_integer_weights_score_like_duplicated_showers(files, tmp_path):
    """Weights 0-3 against a file with each shower repeated that often: S² of every histogram
    and PRDC agree (so the weights reach each metric aligned with their showers)."""
    with h5py.File(files["generated"]) as f:
        e, s = f["incident_energies"][()], f["showers"][()]
    w = seeding.rng(3, "weights").integers(0, 4, len(e)).astype(float)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        f["dctr"] = w
    dup = challenge_file(
        tmp_path / "dup.h5", np.repeat(e, w.astype(int), 0), np.repeat(s, w.astype(int), 0)
    )
    common = ["-r", str(files["reference"]), "-d", "1-photons", "--metrics", "hist", "prdc"]
    common += [*FAST, "--no-figures"]
    weighted = ["--weights", str(tmp_path / "w.h5"), "--weights-key", "dctr"]
    main(
        [
            "evaluate",
            *common,
            "-i",
            str(files["generated"]),
            *weighted,
            "--out",
            str(tmp_path / "a"),
        ]
    )
    main(["evaluate", *common, "-i", str(dup), "--out", str(tmp_path / "b")])
    a, b = _scores(tmp_path / "a"), _scores(tmp_path / "b")
    a = a[a.weighted].set_index("metric").value
    b = b.set_index("metric").value
    assert len(a) == 5
    for metric in a.index:
        assert a[metric] == pytest.approx(b[metric], rel=1e-9), metric
    s2_a = pd.read_csv(tmp_path / "a/s2.csv").set_index("feature").s2_weighted
    s2_b = pd.read_csv(tmp_path / "b/s2.csv").set_index("feature").s2
    pd.testing.assert_series_equal(s2_a, s2_b, check_names=False, rtol=1e-9)


def _truncated(path, source):
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "case, message",
    [
        ("dataset 2 file", "6480 voxels, but geometry 'dataset1-photons' has 368"),
        ("nan voxel", "NaN or inf values in 1 shower(s), the first is shower 123"),
        ("negative voxel", "negative energies in 1 shower(s), the first is shower 123"),
        ("lengths", "240 showers but 239 incident energies"),
        ("truncated", "not a readable HDF5 file"),
        ("weights length", "239 weights, but"),
        ("negative weight", "1 weights not finite and >= 0, the first is shower 7"),
    ],
)
def test_bad_files_stop_before_any_training(files, tmp_path, capsys, monkeypatch, case, message):
    def no_training(*args, **kwargs):
        raise AssertionError("training started on a bad file")

    monkeypatch.setattr(ev, "classifier_metric", no_training)
    monkeypatch.setattr("ganplify.dctr.judge.judge_auc", no_training)
    monkeypatch.setattr("ganplify.dctr.judge.judge", no_training)
    with h5py.File(files["generated"]) as f:
        e, s = f["incident_energies"][()], f["showers"][()]
    bad = tmp_path / "bad.h5"
    extra = []
    if case == "dataset 2 file":
        challenge_file(bad, e, np.zeros((len(e), 6480)), showers_dtype="f4")
    elif case in ("nan voxel", "negative voxel"):
        s[123, 40] = np.nan if case == "nan voxel" else -1.0
        challenge_file(bad, e, s)
    elif case == "lengths":
        challenge_file(bad, e[:-1], s)
    elif case == "truncated":
        _truncated(bad, files["generated"])
    else:
        challenge_file(bad, e, s)
        w = np.ones(len(e) - (case == "weights length"))
        w[7] = -1.0 if case == "negative weight" else 1.0
        with h5py.File(tmp_path / "w.h5", "w") as f:
            f["weights"] = w
        extra = ["--weights", str(tmp_path / "w.h5")]
    argv = ["evaluate", "-r", str(files["reference"]), "-i", str(bad), "-d", "1-photons"]
    assert main([*argv, *extra, "--out", str(tmp_path / "out"), *FAST]) == 2
    err = capsys.readouterr().err
    assert (
        message in err
        and ("w.h5" if case.startswith(("weights", "negative w")) else "bad.h5") in err
    )
    assert not list((tmp_path / "out").glob("classifier_*"))


def test_help_speaks_to_a_physicist(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for phrase in (
        "incident_energies",
        "(N, voxels) in MeV",
        "cls-high",
        "isotonic calibration",
        "precision, recall, density and coverage",
        "--weights",
        "1-photons",
    ):
        assert phrase in text, phrase
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["ganplify"].split(":")
    assert getattr(__import__(module, fromlist=[func]), func) is main


def test_the_challenges_splits_and_network():
    assert cc.split_counts(121_000, "1-photons") == (80_000, 20_000, 21_000)
    assert cc.split_counts(125_000, "1-photons") == (80_000, 20_000, 25_000)  # the rest
    assert cc.split_counts(100_000, "2") == (60_000, 20_000, 20_000)
    assert cc.split_counts(500, "1-photons") == (300, 100, 100)  # too few: 60 / 20 / 20 %
    with pytest.raises(ValueError, match="cannot be split"):
        cc.split_counts(2)
    net = cc.build_network(33, cc.ChallengeClassifierConfig())
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (33, 2048),
        (2048, 2048),
        (2048, 2048),
        (2048, 1),
    ]
    assert all(m.weight.dtype == torch.float64 for m in linear)
    assert sum(isinstance(m, torch.nn.LeakyReLU) for m in net) == 3


def _gaussians(n, shift, seed):
    rng = seeding.rng(seed, "gauss")
    return rng.normal(0, 1, (n, 1)), rng.normal(shift, 1, (n, 1))


SMALL = cc.ChallengeClassifierConfig(n_hidden=32, epochs=6, batch_size=200, lr=2e-3)


def test_the_classifier_metric_reaches_the_exact_auc():
    """Truth N(0, 1) against N(1, 1): the best classifier's AUC is Φ(1/√2) = 0.760 exactly."""
    from scipy.stats import norm

    torch.set_num_threads(1)
    x_t, x_g = _gaussians(4000, 1.0, 1)
    r = cc.classifier_metric(x_t, x_g, config=SMALL, seed=1)
    assert (r.n_train, r.n_test, r.n_validation) == (2400, 800, 800)
    error = np.sqrt(0.76 * 0.24 / 800)  # roughly, for 800 events a class
    assert r.auc == pytest.approx(norm.cdf(1 / np.sqrt(2)), abs=3 * error)
    assert 0.05 < r.jsd < 0.25 and 1 <= r.best_epoch <= 6
    again = cc.classifier_metric(x_t, x_g, config=SMALL, seed=1)
    assert again.auc == r.auc  # reproducible from the seed


def test_exact_weights_make_the_classifier_blind():
    """Generated N(1, 1) weighted by p_T / p_G = exp(1/2 − x): AUC 0.5 within its error, where
    the unweighted AUC is 0.76."""
    torch.set_num_threads(1)
    x_t, x_g = _gaussians(4000, 1.0, 2)
    w = np.exp(0.5 - x_g[:, 0])
    r = cc.classifier_metric(x_t, x_g, w, config=SMALL, seed=2)
    assert abs(r.auc - 0.5) < 0.04 and r.jsd < 0.03


@pytest.mark.parametrize(
    "dataset, name, edges",
    [
        ("dataset1-photons", "eta_centre_12", (-500, 500, 101)),
        ("dataset1-photons", "phi_width_1", (0, 100, 101)),
        ("dataset1-photons", "r_centre_12", (0, 1500, 101)),
        ("dataset1-pions", "r_width_14", (0, 1500, 101)),
        ("dataset1-pions", "r_width_3", (0, 500, 101)),
        ("dataset2", "eta_centre_7", (-30, 30, 101)),
        ("dataset2", "eta_width_7", (0, 30, 101)),
        ("dataset2", "r_centre_44", (0, 42, 101)),
        ("dataset3", "r_width_0", (0, 20, 101)),
        ("dataset2", "sparsity_3", (0, 1, 21)),
        ("dataset2", "e_tot_over_e_inc", (0.5, 1.5, 101)),
    ],
)
def test_histograms_are_the_challenges(dataset, name, edges):
    g = dataset_geometry(dataset)
    np.testing.assert_array_equal(cf.histogram_edges(name, g), np.linspace(*edges))


def test_energy_histograms_follow_the_reference():
    g = dataset_geometry("dataset2")
    e = cf.histogram_edges("e_layer_3", g, np.array([0.0, 50.0, 2000.0]))
    assert len(e) == 40 and e[0] == pytest.approx(0.5e-3 / 0.033) and e[-1] == pytest.approx(2000)
    photons, pions = dataset_geometry("dataset1-photons"), dataset_geometry("dataset1-pions")
    np.testing.assert_array_equal(cf.energy_ratio_edges(2048, photons), np.linspace(0.4, 1.4, 21))
    np.testing.assert_array_equal(cf.energy_ratio_edges(4096, photons), np.linspace(0.9, 1.1, 21))
    np.testing.assert_array_equal(cf.energy_ratio_edges(4096, pions), np.linspace(0.4, 1.4, 21))
    v = cf.voxel_energy_edges(1e4, photons)
    assert len(v) == 50 and v[0] == 1.0 and v[-1] == pytest.approx(1e4)

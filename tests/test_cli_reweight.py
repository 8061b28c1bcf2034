"""``ganplify reweight fit`` and ``apply`` on small files written as CaloChallenge distributes them:
the stored model weights new showers as the fit weighted its evaluation showers, to the bit; a
changed or foreign model and bad files are refused by name; a null fit judges at 0.5."""

import contextlib
import io

import h5py
import numpy as np
import pytest
from test_evaluate import LOW, challenge_file

from ganplify.calo.challenge import dataset_geometry
from ganplify.calo.simulator import FASTSIM, TRUTH, simulate_sample
from ganplify.cli.main import main
from ganplify.core import seeding
from ganplify.core.io import read_attrs, read_dataset
from ganplify.dctr import reweighter
from ganplify.jobs.calo_classifiers import hl_names

QUIET = ["--threads", "1", "--quiet"]


def simulated(path, n, model, seed):
    """``n`` dataset-1 photon showers at low energies, written as the challenge distributes them
    (float64, MeV, gzip); the same showers whatever the folder."""
    g = dataset_geometry("dataset1-photons")
    parts = list(simulate_sample(n, seeding.rng(seed, path.name), LOW, model=model, calorimeter=g))
    e = 1000.0 * np.concatenate([p[0] for p in parts])
    return challenge_file(path, e, np.concatenate([p[1] for p in parts]).reshape(n, -1))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("reweight")
    return {
        "reference": simulated(d / "reference.h5", 800, TRUTH, 11),
        "reference_2": simulated(d / "reference_2.h5", 800, TRUTH, 12),
        "generated": simulated(d / "generated.h5", 800, FASTSIM, 13),
        "generated_2": simulated(d / "generated_2.h5", 300, FASTSIM, 14),
    }


def _fit(reference, generated, out) -> str:
    """``ganplify reweight fit`` of two files; what it printed."""
    argv = ["reweight", "fit", "-r", str(reference), "-i", str(generated), "-d", "1-photons"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([*argv, "--out", str(out), *QUIET]) == 0
    return printed.getvalue()


@pytest.fixture(scope="module")
def fitted(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "rw"
    return out, _fit(files["reference"], files["generated"], out)


def test_fit_stores_the_model_and_weights_the_held_out_showers(fitted):
    out, printed = fitted
    weights = out / "weights.h5"
    with h5py.File(weights) as f:
        fit_rows, eval_rows = f["fit/generated_index"][()], f["evaluation/generated_index"][()]
        assert f["weights"].shape == fit_rows.shape and f["evaluation/weights"].shape == (400,)
        assert {"h_truth", "h_gen", "fold_gen", "repeat_fold_gen", "history"} <= set(f)
    # half of the file, at random from the seed, is held out; the rest fitted
    assert len(eval_rows) == 400 and not set(fit_rows) & set(eval_rows)
    np.testing.assert_array_equal(np.sort(np.r_[fit_rows, eval_rows]), np.arange(800))
    np.testing.assert_array_equal(
        eval_rows, np.flatnonzero(read_dataset(out / "features/generated.h5", "evaluation"))
    )
    model = reweighter.load(out / "reweighter.h5", features=hl_names("dataset1-photons"))
    assert model.info["n_truth"] == model.info["n_generated"] == 400
    judge = read_attrs(out / "judge.h5")
    # FASTSIM's showers are shallower: the judge tells them apart, less so with the weights
    assert judge["auc_unweighted"] > 0.6
    assert judge["auc"] < judge["auc_unweighted"] - 2 * judge["auc_unweighted_err"]
    assert "50 % of each file" in printed and "reference 400 of 800 showers" in printed
    assert f"AUC {judge['auc']:.3f} ± {judge['auc_err']:.3f}" in printed
    assert "reference vs reference with the weights" in printed


def test_apply_weights_the_fits_evaluation_showers_to_the_bit(fitted, files, tmp_path, capsys):
    out, _ = fitted
    argv = ["reweight", "apply", "--model", str(out / "reweighter.h5"), "-d", "1-photons"]
    w_file = tmp_path / "w.h5"
    assert main([*argv, "-i", str(files["generated"]), "--out", str(w_file), *QUIET]) == 0
    w = read_dataset(w_file, "weights")
    rows = read_dataset(out / "weights.h5", "evaluation/generated_index")
    assert len(w) == 800
    np.testing.assert_array_equal(w[rows], read_dataset(out / "weights.h5", "evaluation/weights"))
    np.testing.assert_array_equal(
        read_dataset(w_file, "h")[rows], read_dataset(out / "weights.h5", "evaluation/h")
    )
    # the fit's own file: its fitting showers are flagged, exactly those, and the user is warned
    seen = read_dataset(w_file, "fitting_shower")
    fit_rows = read_dataset(out / "weights.h5", "fit/generated_index")
    np.testing.assert_array_equal(np.flatnonzero(seen), np.sort(fit_rows))
    assert f"WARNING: {len(fit_rows)} of them were showers the reweighter was fitted" in (
        capsys.readouterr().out
    )
    # new showers of the generator: one weight each, from the same function
    new = tmp_path / "new.h5"
    assert main([*argv, "-i", str(files["generated_2"]), "--out", str(new), *QUIET]) == 0
    w_new = read_dataset(new, "weights")
    assert w_new.shape == (300,) and np.all(np.isfinite(w_new)) and np.all(w_new > 0)
    assert not read_dataset(new, "fitting_shower").any()
    assert "WARNING" not in capsys.readouterr().out
    assert read_attrs(new)["model_file"] == str(out / "reweighter.h5")


def _no_work(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("showers were read before the model and the file were checked")

    monkeypatch.setattr("ganplify.jobs.calo_showers.segment_observables", fail)


def test_a_changed_model_is_refused_by_name(fitted, files, tmp_path, capsys, monkeypatch):
    out, _ = fitted
    changed = tmp_path / "changed.h5"
    changed.write_bytes((out / "reweighter.h5").read_bytes())
    with h5py.File(changed, "a") as f:
        f["members/0/trees/value"][0] += 1.0  # one leaf of one tree
    _no_work(monkeypatch)
    argv = ["reweight", "apply", "--model", str(changed), "-i", str(files["generated"])]
    assert main([*argv, "-d", "1-photons", "--out", str(tmp_path / "w.h5"), *QUIET]) == 2
    err = capsys.readouterr().err
    assert f"{changed}: its contents do not match the checksum" in err
    assert err.startswith("ganplify reweight apply: error:")
    assert not (tmp_path / "w.h5").exists()


def test_a_dataset_2_model_is_refused_on_dataset_1_showers(files, tmp_path, capsys, monkeypatch):
    # datasets 2 and 3 have the same features: the geometry in every name tells them apart
    assert hl_names("dataset2") != hl_names("dataset3")
    assert len(hl_names("dataset2")) == len(hl_names("dataset3"))
    names = hl_names("dataset2")
    rng = np.random.default_rng(0)
    x_t, x_g = rng.normal(size=(200, len(names))), rng.normal(0.3, size=(200, len(names)))
    spec = reweighter.ReweighterSpec(classifier={"kind": "boosted", "repeats": 1, "max_iter": 5})
    model, _ = reweighter.fit(x_t, x_g, spec, seed=1, features=names)
    path = tmp_path / "dataset_2_reweighter.h5"
    model.save(path)
    _no_work(monkeypatch)
    argv = ["reweight", "apply", "--model", str(path), "-i", str(files["generated"])]
    assert main([*argv, "-d", "1-photons", "--out", str(tmp_path / "w.h5"), *QUIET]) == 2
    err = capsys.readouterr().err
    n1 = len(hl_names("dataset1-photons"))
    assert f"{path}: fitted on {len(names)} inputs, the events have {n1}" in err
    assert "--dataset 1-photons" in err and not (tmp_path / "w.h5").exists()


@pytest.mark.parametrize(
    "case, message",
    [
        ("voxels", "shape (300, 6480): 6480 voxels, but geometry 'dataset1-photons' has 368"),
        ("nan", "NaN or inf values in 1 shower(s), the first is shower 211"),
        ("negative", "negative energies in 1 shower(s), the first is shower 211"),
        ("lengths", "300 showers but 299 incident energies"),
    ],
)
def test_bad_files_are_refused_before_any_weight(fitted, files, tmp_path, capsys, case, message):
    out, _ = fitted
    with h5py.File(files["generated_2"]) as f:
        e, s = f["incident_energies"][()], f["showers"][()]
    if case == "voxels":
        s = np.zeros((len(e), 6480))
    elif case == "lengths":
        e = e[:-1]
    else:
        s[211, 100] = np.nan if case == "nan" else -1.0
    bad = challenge_file(tmp_path / "bad.h5", e, s)
    argv = ["reweight", "apply", "--model", str(out / "reweighter.h5"), "-i", str(bad)]
    assert main([*argv, "-d", "1-photons", "--out", str(tmp_path / "w.h5"), *QUIET]) == 2
    assert f"{bad}, dataset 'showers': {message}" in capsys.readouterr().err
    assert not (tmp_path / "w.h5").exists()


def test_fit_refuses_a_bad_option_or_file_before_any_work(files, tmp_path, capsys, monkeypatch):
    _no_work(monkeypatch)
    argv = ["reweight", "fit", "-r", str(files["reference"]), "-d", "1-photons", *QUIET]
    out = ["--out", str(tmp_path / "rw")]
    gen = ["-i", str(files["generated"])]
    assert main([*argv, *gen, *out, "--evaluation-fraction", "1.5"]) == 2
    assert "--evaluation-fraction 1.5: between 0 and 1" in capsys.readouterr().err
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(files["generated"].read_bytes()[:5000])
    assert main([*argv, "-i", str(truncated), *out]) == 2
    assert f"{truncated}: not a readable HDF5 file" in capsys.readouterr().err
    assert main([*argv, *gen, *out, "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: no such config file (--config)" in capsys.readouterr().err
    assert not (tmp_path / "rw").exists()


def test_a_null_fit_judges_at_one_half(files, tmp_path):
    """Reference and "generator" both from the truth simulation: the judge cannot tell the
    evaluation showers apart, weighted or not, and the weights stay near 1."""
    out = tmp_path / "null"
    printed = _fit(files["reference"], files["reference_2"], out)
    judge = read_attrs(out / "judge.h5")
    for key in ("auc", "auc_unweighted", "auc_null"):
        assert abs(judge[key] - 0.5) < 3 * judge[f"{key}_err"], (key, judge[key])
    diagnostics = read_attrs(out / "weights.h5")["evaluation_diagnostics"]
    assert diagnostics["n_eff_fraction"] > 0.8
    assert "reference 400 of 800 showers, generated 400 of 800" in printed


def test_help_speaks_to_a_physicist(capsys):
    with pytest.raises(SystemExit):
        main(["reweight", "fit", "--help"])
    text = capsys.readouterr().out
    for phrase in (
        "held out for evaluation",
        "drawn from the config's",
        "seed",
        "reweighter.h5",
        "'evaluation/weights'",
        "the judge",
        "(N, voxels) in MeV",
    ):
        assert phrase in text, phrase
    with pytest.raises(SystemExit):
        main(["reweight", "--help"])
    assert "w = h / (1 - h)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["reweight", "apply", "--help"])
    text = capsys.readouterr().out
    assert "no refit" in text and "checksum" in text and "dataset 2 model" in text

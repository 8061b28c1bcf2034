"""The CaloChallenge preset (config/calochallenge.yaml): a physicist's own files, written exactly as
the challenge distributes them, through the whole workflow; bad files stop it before any training.
"""

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, run, snakemake_cmd
from test_evaluate import challenge_file

from ganplify.calo.detector import detector_from_config
from ganplify.calo.simulator import FASTSIM, TRUTH, simulate_energies
from ganplify.core import seeding
from ganplify.core.config import load_config, validate_config
from ganplify.core.events import digest
from ganplify.core.io import read_attrs, read_dataset

pytestmark = pytest.mark.workflow

PRESET = REPO / "config/calochallenge.yaml"
STUDY = "calochallenge"
#: the tests' sizes: a few hundred showers, small judges and distances, one thread per job
TINY = {
    "dctr": {"bootstrap_replicas": 50, "judge": {"bootstrap": 50}},
    "calorimeter": {
        "chunk": 500,  # one observables job per file
        "metrics": {
            "fpd": {"min_samples": 100, "max_samples": 200, "n_batches": 3, "n_points": 3},
            "kpd": {"n_batches": 3, "batch_size": 200},
        },
        "ll": {"filters": 4, "hidden": [8, 8, 8], "batch_size": 50},
    },
    "runtime": {"threads": {"dctr": 1}, "ll_workers": 0},
    "advanced": {"boosted": {"repeats": 1}},
}
#: low incident energies of each data set (GeV; the simulator is fast there)
ENERGIES = {"dataset1-photons": [1.024, 16.384], "dataset2": [2.0, 8.0]}


def showers_file(path, detector, n, model, seed):
    """``n`` simulated showers written as the challenge distributes them: gzip-compressed
    ``incident_energies`` (N, 1) and ``showers`` (N, voxels), both float64, in MeV."""
    g = detector_from_config(detector)
    rng = seeding.rng(seed, "preset", str(path.name))
    e = rng.choice(ENERGIES[detector], n)
    s = simulate_energies(e, rng, model=model, calorimeter=g).reshape(n, -1)
    return challenge_file(path, 1000.0 * e, s, showers_dtype="f8")


def preset_override(tmp_path, detector, truth, generator, evaluation_truth=None, **study):
    """The user's edits of the preset (data set and paths), with the tests' sizes."""
    settings = {"detector": detector, **study}
    settings["truth"] = {"kind": "file", "paths": [str(truth)]}
    settings["generator"] = {"kind": "file", "paths": [str(generator)]}
    if evaluation_truth is not None:
        settings["evaluation"] = {"truth": {"kind": "file", "paths": [str(evaluation_truth)]}}
    layer = {**TINY, "calorimeter": {**TINY["calorimeter"], "studies": {STUDY: settings}}}
    path = tmp_path / "my_files.yaml"
    path.write_text(yaml.safe_dump(layer))
    return path


#: the preset's tables (its figures, the plot job, cost ~18 CPU-s more on dataset 1)
SUMMARIES = ("dctr_summary", "classifier_summary", "energy_bins", "challenge_metrics")


def preset_cmd(override, workdir, *args, targets=()):
    """snakemake with the preset and the user's override (and explicit targets, if any)."""
    return snakemake_cmd(
        *targets, *args, "--configfile", str(PRESET), str(override), workdir=workdir
    )


def summaries_cmd(override, workdir):
    """The run of the preset to its tables."""
    targets = [f"results/calorimeter/{STUDY}/{name}.csv" for name in SUMMARIES]
    return preset_cmd(override, workdir, "--cores", "2", targets=targets)


def test_the_preset_is_the_calorimeter_study_alone():
    config = validate_config(load_config(REPO / "config.yaml", PRESET))
    assert config["parts"] == ["calorimeter"] and config["calorimeter"]["run"] == [STUDY]
    study = config["calorimeter"]["studies"][STUDY]
    assert study["truth"]["kind"] == study["generator"]["kind"] == "file"
    assert "evaluation" not in study  # by default a share of each file is held out
    assert config["calorimeter"]["amplification"]["run"] == []


def _check_outputs(calo, files, n_eval_truth, n_eval_gen):
    for name in SUMMARIES:
        assert (calo / f"{name}.csv").stat().st_size > 0, name
    # the summaries' evaluation digests are of the held-out showers of the user's files
    judge = read_attrs(calo / "judge_hl.h5")
    rows = {
        p: read_dataset(calo / "judge_hl.h5", f"evaluation/{p}_index")
        for p in ("truth", "generated")
    }
    assert len(rows["truth"]) == n_eval_truth and len(rows["generated"]) == n_eval_gen
    stated = ":".join(digest(judge[f"evaluation_{p}_sample"], rows[p]) for p in rows)
    for table in SUMMARIES:
        assert (pd.read_csv(calo / f"{table}.csv").evaluation_digest == stated).all(), table
    # ...and none of them was a fitting shower
    weights = calo / "weights_hl.h5"
    fit_gen = set(read_dataset(weights, "fit/generated_index").tolist())
    fit_truth = set(read_dataset(weights, "fit/truth_index").tolist())
    assert not fit_gen & set(rows["generated"].tolist())
    if judge["evaluation_truth_sample"] == read_attrs(weights)["fit_truth_sample"]:
        assert not fit_truth & set(rows["truth"].tolist())
    # every features file reads the user's file, nothing was simulated
    for sample, path in files.items():
        assert read_attrs(calo / sample / "features/0.h5")["source"] == str(path)
    assert not list(calo.glob("*/showers"))


def test_dataset_1_photons_and_the_command_line_fit_is_the_same_step(tmp_path):
    """Dataset 1 photons, one Geant4 file: the workflow holds out half of each file itself (at
    random, from the seed). ``ganplify reweight fit`` with the same config on the same files
    writes the same weights and judge, to the bit: it runs the workflow's job functions with the
    preset study's identity."""
    from ganplify.cli.main import main

    d = "dataset1-photons"
    files = {
        "truth": showers_file(tmp_path / "dataset_1_photons_1.hdf5", d, 400, TRUTH, 1),
        "generated": showers_file(tmp_path / "my_generator.hdf5", d, 400, FASTSIM, 2),
    }
    override = preset_override(
        tmp_path, d, files["truth"], files["generated"], classifiers=["hl"], judges=["hl"]
    )
    work = tmp_path / "work"
    run(summaries_cmd(override, work))
    calo = work / "results/calorimeter" / STUDY
    assert not (calo / "truth_eval").exists() and not (calo / "generated_eval").exists()
    for sample in ("truth", "generated"):
        evaluation = read_dataset(calo / f"{sample}/features.h5", "evaluation")
        assert evaluation.sum() == 200 and len(evaluation) == 400
    _check_outputs(calo, files, n_eval_truth=200, n_eval_gen=200)
    summary = pd.read_csv(calo / "classifier_summary.csv").iloc[0]
    # FASTSIM's showers are shallower: the judge sees it, and the weights shrink it
    assert summary.judge_auc_gan > 0.6
    assert summary.judge_auc_dctr < summary.judge_auc_gan - 2 * summary.judge_auc_gan_err

    out = tmp_path / "cli"
    argv = ["reweight", "fit", "-r", str(files["truth"]), "-i", str(files["generated"])]
    argv += ["-d", "1-photons", "--out", str(out), "--config", str(PRESET), str(override)]
    assert main([*argv, "--threads", "1", "--quiet"]) == 0
    for key in ("evaluation/weights", "evaluation/generated_index", "weights", "fit/truth_index"):
        np.testing.assert_array_equal(
            read_dataset(out / "weights.h5", key), read_dataset(calo / "weights_hl.h5", key), key
        )
    ours, theirs = read_attrs(out / "judge.h5"), read_attrs(calo / "judge_hl.h5")
    for key in ("auc", "auc_err", "auc_unweighted", "auc_null"):
        assert ours[key] == theirs[key], key


def test_dataset_2_with_a_second_geant4_file(tmp_path):
    """Dataset 2 with the preset's option: the reference file fits, a second Geant4 file is the
    evaluation truth; half of the generator's file is held out."""
    d = "dataset2"
    files = {
        "truth": showers_file(tmp_path / "dataset_2_1.hdf5", d, 200, TRUTH, 3),
        "truth_eval": showers_file(tmp_path / "dataset_2_2.hdf5", d, 150, TRUTH, 4),
        "generated": showers_file(tmp_path / "my_generator.hdf5", d, 300, FASTSIM, 5),
    }
    override = preset_override(
        tmp_path,
        d,
        files["truth"],
        files["generated"],
        evaluation_truth=files["truth_eval"],
        classifiers=["hl"],
        judges=["hl"],
    )
    work = tmp_path / "work"
    run(summaries_cmd(override, work))
    calo = work / "results/calorimeter" / STUDY
    assert not read_dataset(calo / "truth/features.h5", "evaluation").any()  # all of it fits
    assert read_dataset(calo / "truth_eval/features.h5", "evaluation").all()
    assert read_dataset(calo / "generated/features.h5", "evaluation").sum() == 150
    _check_outputs(calo, files, n_eval_truth=150, n_eval_gen=150)
    assert read_attrs(calo / "weights_hl.h5")["fit_truth_sample"] == "truth"
    assert read_attrs(calo / "judge_hl.h5")["evaluation_truth_sample"] == "truth_eval"


def _bad(path, source, case):
    with h5py.File(source) as f:
        e, s = f["incident_energies"][()], f["showers"][()]
    if case == "voxels":  # a dataset 2 file in a dataset 1 run
        return challenge_file(path, e, np.zeros((len(e), 6480)), showers_dtype="f8")
    if case == "lengths":
        return challenge_file(path, e[:-1], s, showers_dtype="f8")
    if case == "truncated":
        data = source.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    if case == "energies":
        e[17] = -1.0
        return challenge_file(path, e, s, showers_dtype="f8")
    raise ValueError(case)


@pytest.fixture(scope="module")
def good_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("preset_files")
    return {
        "truth": showers_file(d / "geant4.hdf5", "dataset1-photons", 200, TRUTH, 6),
        "generated": showers_file(d / "generator.hdf5", "dataset1-photons", 200, FASTSIM, 7),
    }


def test_a_file_of_another_data_set_stops_the_dry_run(tmp_path, good_files):
    bad = _bad(tmp_path / "dataset_2.hdf5", good_files["generated"], "voxels")
    override = preset_override(tmp_path, "dataset1-photons", good_files["truth"], bad)
    proc = run(preset_cmd(override, tmp_path / "work", "-n"), check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in text
    assert str(bad) in text and "dataset 'showers'" in text
    assert "6480 voxels, but geometry 'dataset1-photons' has 368" in text


@pytest.mark.parametrize(
    "case, dataset, message",
    [
        ("lengths", "showers", "200 showers but 199 incident energies"),
        ("truncated", None, "not a readable HDF5 file"),
        (
            "energies",
            "incident_energies",
            "1 incident energies not finite and positive, the first is shower 17",
        ),
    ],
)
def test_bad_files_stop_the_plan(tmp_path, good_files, case, dataset, message):
    """What the workflow checks when it plans (rules/common.smk: plan_segments on the preset's
    study), before any job: here in process, the dry run above shows the workflow stops on it."""
    from ganplify.jobs.calo_showers import plan_segments, study_settings

    bad = _bad(tmp_path / "bad.hdf5", good_files["generated"], case)
    override = preset_override(tmp_path, "dataset1-photons", good_files["truth"], bad)
    config = validate_config(load_config(REPO / "config.yaml", PRESET, override))
    settings = study_settings(config["calorimeter"], STUDY)
    plan_segments(STUDY, "truth", settings)
    with pytest.raises(ValueError) as err:
        plan_segments(STUDY, "generated", settings)
    where = str(bad) + ("" if dataset is None else f", dataset '{dataset}'")
    assert str(err.value).startswith(f"{where}: ") and message in str(err.value)


@pytest.mark.parametrize(
    "sample, value, msg",
    [
        ("truth", -0.5, "negative energies in 1 shower(s), the first is shower 131"),
        ("generated", np.nan, "NaN or inf values in 1 shower(s), the first is shower 131"),
    ],
)
def test_nan_and_negative_energies_stop_the_features_jobs(tmp_path, good_files, sample, value, msg):
    """Values are checked when the showers are first read: in the observables jobs
    (rules/calo_showers.smk, shower_features: ``segment_observables`` of each planned segment),
    which every classifier waits for. (The workflow stopping there before any training is
    tests/test_workflow.py's test_nan_in_a_generator_file_stops_before_training_and_keeps_the_rest.)
    """
    from ganplify.jobs.calo_showers import plan_segments, segment_observables, study_settings

    files = dict(good_files)
    with h5py.File(files[sample]) as f:
        e, s = f["incident_energies"][()], f["showers"][()]
    s[131, 40] = value
    files[sample] = challenge_file(tmp_path / "bad.hdf5", e, s, showers_dtype="f8")
    override = preset_override(tmp_path, "dataset1-photons", files["truth"], files["generated"])
    config = validate_config(load_config(REPO / "config.yaml", PRESET, override))
    settings = study_settings(config["calorimeter"], STUDY)
    (segment,) = plan_segments(STUDY, sample, settings)  # the structure is fine: planned
    with pytest.raises(ValueError) as err:
        segment_observables(segment, tmp_path / "features.h5", detector=settings["detector"])
    assert str(err.value) == f"{files[sample]}, dataset 'showers': {msg}"
    assert not (tmp_path / "features.h5").exists()

"""The workflow through Snakemake: planning, validation, lint, the reduced study and its report."""

import re
from collections import Counter

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import DEMO_CONFIGS, REPO, run, snakemake_cmd

from ganplify.amplification.tables import EQUIVALENCE_COLUMNS, FORECAST_COLUMNS, VERDICTS
from ganplify.calo.features import OBSERVABLES
from ganplify.core import seeding
from ganplify.core.config import load_config
from ganplify.core.io import read_attrs, read_dataset
from ganplify.jobs.calo_summary import (
    CLASSIFIER_COLUMNS,
    ENERGY_BIN_COLUMNS,
    METRIC_COLUMNS,
    summary_columns,
)
from ganplify.jobs.dctr_toys import SUMMARY_COLUMNS

pytestmark = pytest.mark.workflow

#: What the report holds for every study: the figures and the tables.
REPORT_FILES_PER_STUDY = (
    "overview.png",
    "quantile_errors.png",
    "training_gan.png",
    "training_ensemble.png",
    "equivalent_events.csv",
    "saturation.csv",
    "marginal_errors.csv",
    "fit_summary.csv",
)
#: The approaches of the demo's GANplifying studies, in the registry's order.
APPROACHES = ["sample", "fit", "gan", "ensemble", "gan_dctr", "ensemble_dctr"]
#: The demo's camel back at its two training sizes, and the ring.
DEMO_STUDIES = ("camelback_1d", "camelback_1d_n50", "ring_2d")
#: What the report holds for a study of several training sizes (once, under the first size).
REPORT_FILES_SIZES = ("amplification_vs_ntrain.csv", "amplification_vs_ntrain.png")
#: The demo's calorimeter studies: the ILD-like ECAL, CaloChallenge's dataset 1 (photons) and the
#: null test (ILD, the generator a second simulation of the truth).
CALO_STUDIES = ("ild", "dataset1_photons", "null_ild")
#: What the report holds for each calorimeter study.
REPORT_FILES_CALO = (
    "dctr_summary.csv",
    "classifier_summary.csv",
    "energy_bins.csv",
    "challenge_metrics.csv",
    *(f"fig{n}.png" for n in range(2, 9)),
)
#: What the report holds for the DCTR toys.
REPORT_FILES_TOYS = (
    "summary.csv",
    "fig1.png",
    "marginals_bimodal_1d.png",
    "marginals_circle_8.png",
    "marginals_grid_5x5.png",
    "marginals_null_circle_8.png",
)


def job_counts(stdout: str) -> dict[str, int]:
    table = stdout.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def jobs_per_study(stdout: str) -> dict[tuple[str, str], int]:
    """(rule, study) -> number of planned jobs, from a dry run's job listing."""
    counts: dict[tuple[str, str], int] = {}
    for block in re.split(r"^rule ", stdout, flags=re.M)[1:]:
        rule = block.split(":", 1)[0].strip()
        study = re.search(r"wildcards: .*?study=(\w+)", block)
        if study:
            key = (rule, study[1])
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_full_config_plans_the_papers_study(tmp_path):
    out = run(snakemake_cmd("-n", workdir=tmp_path)).stdout
    per_study = jobs_per_study(out)
    # camel back at N_train = 100 (the paper's study), 300 and 1000, each a study of its own
    studies = ("camelback_1d", "camelback_1d_n300", "camelback_1d_n1000", "ring_2d", "shell_5d")
    for study in studies:
        for rule in ("sample", "fit"):
            assert per_study[(rule, study)] == 100, (rule, study)
        # pack 110: the 100 GANs in one block, the 100 ensembles of 10 in blocks of 11
        assert per_study[("train_block", study)] == 1 + 10
        assert per_study[("unpack_run", study)] == 200
        # every run's GAN and ensemble reweighted towards its training sample
        assert per_study[("reweight_run", study)] == 200
        for rule in ("gather", "saturation", "plot_overview", "plot_quantile_errors"):
            assert per_study[(rule, study)] == 1, (rule, study)
    counts = job_counts(out)
    assert counts["sample"] == 500 and counts["train_block"] == 55
    # the forecast: 10 runs x 10 bootstrap members per study in one block of 100 GANs; the learned
    # shower generator's 10 members
    assert counts["train_forecast_block"] == 5 and counts["forecast"] == 5
    assert counts["calo_forecast_member"] == 10 and counts["calo_forecast"] == 1
    assert counts["amplification_vs_ntrain"] == counts["plot_amplification_vs_ntrain"] == 1


def test_approaches_select_what_is_computed(tmp_path):
    out = run(
        snakemake_cmd(
            "-n",
            "--config",
            "approaches=[sample,fit]",
            "studies_to_run=[camelback_1d]",
            workdir=tmp_path,
        )
    ).stdout
    counts = job_counts(out)
    # camel back at its three training sizes (100, 300, 1000), 100 runs each
    assert counts["sample"] == 300 and counts["fit"] == 300
    assert "reweight_run" not in counts
    assert "train_block" not in counts and "saturation" not in counts


@pytest.mark.parametrize(
    "override, key",
    [
        ("n_samples=ten", "n_samples"),
        ("n_samples=-3", "n_samples"),
        ("n_smaples=3", "n_smaples"),
        ("studies_to_run=[ring_3d]", "studies_to_run[0]"),
    ],
)
def test_bad_config_fails_before_any_job(tmp_path, override, key):
    proc = run(snakemake_cmd("-n", "--config", override, workdir=tmp_path), check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "invalid configuration" in text and key in text
    assert "Job stats" not in text and not (tmp_path / "results").exists()


def test_missing_configfile_is_named(tmp_path):
    proc = run(snakemake_cmd("-n", "--configfile", "no/such.yaml", workdir=tmp_path), check=False)
    assert proc.returncode != 0
    assert "no/such.yaml" in proc.stdout + proc.stderr


def test_lint_is_clean():
    proc = run(snakemake_cmd("--lint"), check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_reduced_study_outputs(demo_run):
    table = pd.read_csv(demo_run / "results/camelback_1d/equivalent_events.csv")
    assert list(table.columns) == EQUIVALENCE_COLUMNS
    assert list(table.approach.unique()) == APPROACHES
    assert sorted(table.K.unique()) == [10, 20, 50]
    assert (table.n_runs == 6).all()
    sample = table[table.approach == "sample"]
    fit = table[table.approach == "fit"]
    # the sample of 100 is worth ~100 events by construction (6 runs: loose bounds)
    assert sample.n_equiv.between(60, 160).all()
    # the fit is worth more than the sample, and more so with finer resolution
    assert (fit.n_equiv.to_numpy() > 1.5 * sample.n_equiv.to_numpy()).all()
    assert fit.n_equiv.is_monotonic_increasing
    assert (table.n_equiv_lo < table.n_equiv).all() and (table.n_equiv < table.n_equiv_hi).all()
    np.testing.assert_allclose(table.amplification, table.n_equiv / 100)

    with h5py.File(demo_run / "results/camelback_1d/quantile_errors.h5") as f:
        assert f["fit/mse"].shape == (6, 3) and f["sample/mse"].shape == (6, 3)
        assert f["gan/mse"].shape == (6, 3, 3) and f["ensemble/mse"].shape == (6, 3, 3)
        assert list(f["gan/n_generated"][()]) == [100, 1000, 5000]
        assert f["reference/mse"].shape == (10, 200, 3)
        # the table's mean is the mean of the per-run values (generators: the largest sample)
        np.testing.assert_allclose(f["fit/mse"][()].mean(axis=0), fit.mse_mean.to_numpy())
        gan = table[table.approach == "gan"]
        np.testing.assert_allclose(f["gan/mse"][()][:, -1].mean(axis=0), gan.mse_mean.to_numpy())

    with h5py.File(demo_run / "results/camelback_1d/ensemble/0.h5") as f:
        assert f["generated"].shape == (5000, 1) and f["history"].shape == (6, 2, 3)
        assert f.attrs["members"] == 3 and f["quantiles/K20"].shape == (3, 20)
    saturation = pd.read_csv(demo_run / "results/camelback_1d/saturation.csv")
    assert set(saturation.approach) == set(APPROACHES[2:]) and len(saturation) == 12
    assert (saturation.n_runs == 6).all()
    for approach in ("gan", "ensemble"):
        assert (demo_run / f"results/camelback_1d/figures/training_{approach}.png").exists()
    assert not list((demo_run / "checkpoints").rglob("*.pt"))  # removed after success
    assert not list((demo_run / "results/camelback_1d/blocks").rglob("*.h5"))  # temporary
    with h5py.File(demo_run / "results/camelback_1d/gan/5.h5") as f:
        assert f.attrs["block_runs"] == "[0, 1, 2, 3, 4, 5]"  # one block of 6

    for name in ("overview", "quantile_errors"):
        for ext in ("png", "pdf"):
            assert (demo_run / f"results/camelback_1d/figures/{name}.{ext}").stat().st_size > 5000
    summary = pd.read_csv(demo_run / "results/camelback_1d/fit_summary.csv")
    assert summary.n_fits[0] == 6 and summary.n_valid[0] + summary.n_failed[0] == 6


def test_rerunning_a_job_reproduces_it(demo_run):
    target = demo_run / "results/camelback_1d/samples/3.h5"
    fit = demo_run / "results/camelback_1d/fits/3.h5"
    with h5py.File(target) as f:
        x_before, attrs = f["x"][()], dict(f.attrs)
    with h5py.File(fit) as f:
        v_before = f["values"][()]
    for path in (target, fit):
        _rerun_alone(demo_run, path)
    with h5py.File(target) as f:
        np.testing.assert_array_equal(f["x"][()], x_before)
        assert f.attrs["seed"] == attrs["seed"] and f.attrs["n"] == 100
        assert "camelback" in f.attrs["truth"]
    with h5py.File(fit) as f:
        np.testing.assert_array_equal(f["values"][()], v_before)


def test_report_contains_figures_and_tables(demo_run):
    report = demo_run / "results/report.html"
    run(
        snakemake_cmd(
            "--configfile",
            *DEMO_CONFIGS,
            "--report",
            str(report),
            workdir=demo_run,
        )
    )
    html = report.read_text(errors="replace")
    for name in (
        *REPORT_FILES_PER_STUDY,
        *REPORT_FILES_SIZES,
        *REPORT_FILES_TOYS,
        *REPORT_FILES_CALO,
        "config.yaml",
    ):
        assert name in html, name


def test_zipped_report_lists_every_figure(demo_run):
    import zipfile

    report = demo_run / "results/report.zip"
    run(snakemake_cmd("--configfile", *DEMO_CONFIGS, "--report", str(report), workdir=demo_run))
    with zipfile.ZipFile(report) as z:
        names = z.namelist()
        html = z.read("report/report.html").decode(errors="replace")
    # The zip stores each file under a hashed folder (report/data/raw/<hash>/<name>), so a study's
    # figure is recognised by its name occurring once per study.
    counts = Counter(n.rsplit("/", 1)[-1] for n in names)
    studies = DEMO_STUDIES
    for name in REPORT_FILES_PER_STUDY:
        assert counts[name] == len(studies), (name, counts)
    assert counts["config.yaml"] == 1
    for name in (*REPORT_FILES_SIZES, *REPORT_FILES_TOYS):
        assert counts[name] == 1, (name, counts)
    for name in REPORT_FILES_CALO:
        assert counts[name] == len(CALO_STUDIES), (name, counts)
    # the forecasts: tests/tiny.yaml's two GANplifying studies and the learned shower ensemble
    assert counts["forecast.csv"] == counts["forecast.png"] == 3, counts
    assert all(study in html for study in studies)


def test_rerunning_a_gan_job_reproduces_it(demo_run):
    """A forced rerun of one run's file retrains its block (temporary, so gone) and nothing else."""
    out = demo_run / "results/camelback_1d/gan/2.h5"
    with h5py.File(out) as f:
        before = f["generated"][()]
    executed = _rerun_alone(demo_run, out, steps=2)
    assert sorted(executed) == ["train_block", "unpack_run"]
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["generated"][()], before)
    assert not list((demo_run / "results/camelback_1d/blocks").rglob("*.h5"))


def test_ring_study_outputs(demo_run):
    """The reduced preset runs the 2D ring end to end: 4 samples, cells K = q^2."""
    table = pd.read_csv(demo_run / "results/ring_2d/equivalent_events.csv")
    assert list(table.columns) == EQUIVALENCE_COLUMNS
    assert sorted(table.K.unique()) == [9, 25, 100]
    assert (table.n_runs == 4).all()
    assert list(table.approach.unique()) == APPROACHES
    sample = table[table.approach == "sample"]
    assert sample.n_equiv.between(40, 250).all()
    marginal = pd.read_csv(demo_run / "results/ring_2d/marginal_errors.csv")
    assert set(marginal.coordinate) == {"r", "phi1"}
    assert set(marginal.q) == {3, 5, 10}
    fit_marg = marginal[(marginal.approach == "fit") & (marginal.coordinate == "phi1")]
    assert np.allclose(fit_marg.mse_mean, 0.0)  # the fitted model's direction is exactly uniform
    with h5py.File(demo_run / "results/ring_2d/gan/0.h5") as f:
        assert f["generated"].shape == (5000, 2)
        assert f["quantiles/K100"].shape == (3, 100) and f["marginals/q10"].shape == (3, 2, 10)
    for name in ("overview", "quantile_errors"):
        assert (demo_run / f"results/ring_2d/figures/{name}.png").stat().st_size > 5000
    assert not (demo_run / "results/shell_5d").exists()  # not in the demo's studies_to_run


def test_reweighted_generators_and_training_sizes(demo_run):
    """GAN + DCTR and ensemble + DCTR: the generators' own events, weighted towards each run's
    training sample; the camel back at N_train = 100 and 50, and amplification against size."""
    base = demo_run / "results/camelback_1d"
    for approach, source in (("gan_dctr", "gan"), ("ensemble_dctr", "ensemble")):
        with h5py.File(base / f"{approach}/4.h5") as f:
            w, n_eff, sizes = f["weights"][()], f["n_eff"][()], f["n_generated"][()]
            cells = f["quantiles/K10"][()]
        with h5py.File(base / f"{source}/4.h5") as f:
            events = f["generated"][()]
        attrs = read_attrs(base / f"{approach}/4.h5")
        assert attrs["generator_file"].endswith(f"{source}/4.h5") and attrs["spec"]["folds"] == 2
        assert w.shape == (5000,) and list(sizes) == [100, 1000, 5000]
        # fitted on other events of the same generators, stored; the scored events are new to it
        n_fit = _demo_settings("dctr", "amplification", "fit_generated")
        model = read_attrs(base / f"{approach}/reweighters/4.h5")
        assert model["info"]["n_generated"] == attrs["n_fit_generated"] == n_fit
        # the judge: exact-truth events the reweighter never saw, against the events
        assert attrs["n_judge"] == min(5000, n_fit)
        assert 0.45 < attrs["judge_auc_gan"] < 1 and 0.45 < attrs["judge_auc"] < 1
        assert abs(attrs["judge_auc_null"] - 0.5) < 4 * attrs["judge_auc_null_err"] + 0.01
        assert attrs["spec"]["weights"]["cap"] == _demo_settings("dctr", "amplification", "cap")
        # N_eff of every prefix of the generated sample, from the stored weights
        prefix = [w[:n].sum() ** 2 / (w[:n] ** 2).sum() for n in sizes]
        np.testing.assert_allclose(n_eff, prefix)
        # the stored fractions are the weighted fractions of the generator's own events
        from ganplify.amplification.cells import all_fractions
        from ganplify.jobs.common import truth_from_config

        truth = truth_from_config(
            load_config(REPO / "config.yaml")["studies"]["camelback_1d"]["truth"]
        )
        np.testing.assert_allclose(cells[-1], all_fractions(events, truth, [10], w)[10])

    table = pd.read_csv(base / "equivalent_events.csv")
    n_eff = table.set_index("approach").n_eff
    assert (n_eff["sample"] == 100).all() and n_eff["fit"].isna().all()
    assert (n_eff["gan"] == 5000).all() and (n_eff["gan_dctr"] < 5000).all()

    sizes = pd.read_csv(base / "amplification_vs_ntrain.csv")
    assert sorted(sizes.n_train.unique()) == [50, 100]
    assert set(sizes.approach) == set(APPROACHES) and len(sizes) == 2 * 6 * 3
    small = pd.read_csv(demo_run / "results/camelback_1d_n50/equivalent_events.csv")
    assert (small.n_train == 50).all() and list(small.approach.unique()) == APPROACHES
    row = sizes[(sizes.approach == "fit") & (sizes.n_train == 50) & (sizes.K == 20)].iloc[0]
    ref = small[(small.approach == "fit") & (small.K == 20)].iloc[0]
    assert row.amplification == pytest.approx(ref.n_equiv / 50)
    assert row.amplification_lo <= row.amplification <= row.amplification_hi
    assert (base / "figures/amplification_vs_ntrain.png").stat().st_size > 5000
    # the size-50 study's samples are its own (the study name is part of every seed identity)
    with (
        h5py.File(base / "samples/0.h5") as a,
        h5py.File(base.parent / "camelback_1d_n50/samples/0.h5") as b,
    ):
        assert a["x"].shape == (100, 1) and b["x"].shape == (50, 1)
        assert not np.isin(b["x"][()], a["x"][()]).any()


def _rerun_alone(workdir, path, steps: int = 1) -> list[str]:
    """Rerun exactly the job that makes ``path`` (--force: nothing downstream; upstream only a
    temporary input that is gone); returns the rules that ran."""
    proc = run(
        snakemake_cmd(
            str(path.relative_to(workdir)),
            "--force",
            "--cores",
            "1",
            "--configfile",
            *DEMO_CONFIGS,
            workdir=workdir,
        )
    )
    text = proc.stdout + proc.stderr
    assert f"{steps} of {steps} steps (100%) done" in text
    return re.findall(r"^(?:local)?rule (\w+):", text, flags=re.M)


#: Rules that make the expensive per-run files: none of them may rerun for an analysis knob.
PER_RUN_RULES = ("sample", "fit", "train_block", "unpack_run", "reweight_run")


def _planned_after(workdir, tmp_path, change: dict) -> dict[str, int]:
    """Jobs a dry run plans on the finished study after merging ``change`` over its config."""
    extra = tmp_path / "change.yaml"
    extra.write_text(yaml.safe_dump(change))
    unchanged = run(snakemake_cmd("-n", "--configfile", *DEMO_CONFIGS, workdir=workdir)).stdout
    assert "Nothing to be done" in unchanged  # the study is finished: any plan is the change's
    out = run(
        snakemake_cmd("-n", "--configfile", *DEMO_CONFIGS, str(extra), workdir=workdir)
    ).stdout
    return job_counts(out) if "Job stats:" in out else {}


@pytest.mark.parametrize(
    "change",
    [
        {"gan": {"saturation_fraction": 0.2}},
        {"runtime": {"threads": {"gan": 2}}},
        {"runtime": {"checkpoint_every": {"gan": 7}}},
        {"studies": {"camelback_1d": {"reference_sizes": [100, 300]}}},
    ],
    ids=["saturation_fraction", "threads", "checkpoint_every", "reference_sizes"],
)
def test_analysis_and_runtime_knobs_replan_no_per_run_job(demo_pristine, tmp_path, change):
    planned = _planned_after(demo_pristine, tmp_path, change)
    assert not set(planned) & set(PER_RUN_RULES), planned
    if "saturation_fraction" in str(change):
        assert planned["saturation"] == 3 and "gather" not in planned
    if "reference_sizes" in change.get("studies", {}).get("camelback_1d", {}):
        # camelback_1d's reference curves only, at both of its training sizes (100 and 50)
        assert planned["gather"] == 2 and planned["amplification_vs_ntrain"] == 1


def test_a_training_hyperparameter_replans_exactly_the_trainings(demo_pristine, tmp_path):
    cfg = load_config(REPO / "config.yaml", *DEMO_CONFIGS)
    lr = cfg["gan"]["training"]["lr"] * 2
    planned = _planned_after(demo_pristine, tmp_path, {"gan": {"training": {"lr": lr}}})
    n_runs = 6 + 6 + 4  # camelback_1d at two sizes and ring_2d runs of the demo
    # pack 30, ensembles of 3: per study one block of GANs and one of ensembles
    assert planned["train_block"] == 6 and planned["unpack_run"] == 2 * n_runs
    assert planned["reweight_run"] == 2 * n_runs  # the reweighted GANs follow their GANs
    assert "sample" not in planned and "fit" not in planned and "fit_summary" not in planned
    assert planned["gather"] == 3 and planned["saturation"] == 3
    # the forecast's bootstrap members train as the study's GANs do: they follow
    assert planned["train_forecast_block"] == 2 and planned["forecast"] == 2


def test_the_judges_settings_replan_the_judges_not_the_reweighters(demo_pristine, tmp_path):
    """dctr.judge: the judges (and the amplification runs' reweighting, whose job judges its own
    weights), never a generator or a toy's or shower's reweighting."""
    planned = _planned_after(demo_pristine, tmp_path, {"dctr": {"judge": {"folds": 3}}})
    assert planned["toy_judge"] == len(DEMO_TOYS) and planned["calo_judge"] >= 3
    assert planned["ll_judge"] == 2 and planned["reweight_run"]
    for rule in ("toy_dctr", "hl_dctr", "ll_dctr", "train_toy_gan"):
        assert rule not in planned, planned
    assert not {"sample", "fit", "train_block", "unpack_run"} & set(planned), planned
    assert planned["export_config"] == 1  # results/config.yaml: the config the run used


def _demo_settings(*keys):
    """A value of the config the demo run used (config.yaml, then DEMO_CONFIGS)."""
    value = load_config(REPO / "config.yaml", *DEMO_CONFIGS)
    for key in keys:
        value = value[key]
    return value


def _assert_stored_reweighter(weights_file, model_file, x_gen, x_eval, features):
    """The weights file's weights are the stored reweighter's, bit for bit: the fitting events'
    by their own folds' classifiers (out of fold), the evaluation events' by every fold's."""
    from ganplify.dctr.reweighter import load

    rw = load(model_file, features=features)
    with h5py.File(weights_file) as f:
        w, folds = f["weights"][()], f["repeat_fold_gen"][()]
        w_eval, h_eval = f["evaluation/weights"][()], f["evaluation/h"][()]
    if x_gen is not None:
        np.testing.assert_array_equal(rw.weights(x_gen, folds=folds)[0], w)
    if x_eval is not None:
        np.testing.assert_array_equal(rw.h(x_eval), h_eval)
    np.testing.assert_array_equal(rw.weights_from_h(h_eval, x_eval)[0], w_eval)
    return rw


def _assert_judged(row, judge_file, prefix="judge"):
    """A summary row's judge columns are the judge file's AUCs and controls."""
    attrs = read_attrs(judge_file)
    for what, key in (("dctr", "auc"), ("gan", "auc_unweighted"), ("null", "auc_null")):
        assert row[f"{prefix}_auc_{what}"] == pytest.approx(attrs[key], abs=1e-12)
        assert row[f"{prefix}_auc_{what}_err"] == pytest.approx(attrs[f"{key}_err"], abs=1e-12)
    return attrs


DEMO_TOYS = ("bimodal_1d", "circle_8", "grid_5x5", "null_circle_8")
TOY_2D_OBSERVABLES = (
    "x1",
    "x2",
    "radius",
    "angle",
    "x1_plus_x2",
    "x1_minus_x2",
    "x1_times_x2",
    "cell_10x10",
)


def test_dctr_toy_study_outputs(demo_run):
    """The toys and their null test end to end: the stored reweighter, fitted on the fitting
    events, weights the evaluation events; the summary and the judge measure those against the
    evaluation truth, which nothing was fitted on."""
    from ganplify.core.events import digest
    from ganplify.dctr.weights import effective_sample_size

    table = pd.read_csv(demo_run / "results/dctr_toys/summary.csv")
    assert list(table.columns) == SUMMARY_COLUMNS
    expected = {("bimodal_1d", "x")}
    expected |= {(t, o) for t in DEMO_TOYS[1:] for o in TOY_2D_OBSERVABLES}
    assert set(zip(table.toy, table.observable, strict=True)) == expected
    assert set(table[table.targeted].observable) == {"x", "x1", "x2"}
    for toy in DEMO_TOYS:
        base = demo_run / "results/dctr_toys" / toy
        x_truth, x_test = (read_dataset(base / "truth.h5", s) for s in ("truth", "test"))
        x_gen, x_eval = (read_dataset(base / "gan.h5", s) for s in ("generated", "evaluation"))
        assert len(x_gen) == len(x_eval) == len(x_test) == 3000
        features = ["x"] if x_gen.shape[1] == 1 else ["x1", "x2"]
        _assert_stored_reweighter(
            base / "weights.h5", base / "reweighter.h5", x_gen, x_eval, features
        )
        rows = table[table.toy == toy]
        w_eval = read_dataset(base / "weights.h5", "evaluation/weights")
        np.testing.assert_allclose(rows.neff_fraction, effective_sample_size(w_eval) / 3000)
        judged = _assert_judged(rows.iloc[0], base / "judge.h5")
        assert judged["trees"] == _demo_settings("dctr", "judge", "trees")
        # which events: the evaluation truth `test` and the evaluation events, nothing else
        assert (rows.evaluation_digest == f"{digest('test', range(3000))}:"
                f"{digest('evaluation', range(3000))}").all()  # fmt: skip
        attrs = read_attrs(base / "weights.h5")
        assert attrs["fit_truth_sample"] == "truth" and attrs["fit_generated_sample"] == "generated"
        assert attrs["spec"]["calibration"] == _demo_settings("advanced", "boosted", "calibration")
        assert (demo_run / f"results/dctr_toys/figures/marginals_{toy}.png").stat().st_size > 5000
    assert (demo_run / "results/dctr_toys/figures/fig1.png").stat().st_size > 5000


def test_the_toys_null_test_reports_no_gain(demo_run):
    """null_circle_8: the generator is the truth itself. No observable's S² falls significantly
    (ratio >= 1 - 3 sigma), the weights leave the judge's AUC where it was or above, and both
    controls are at 0.5."""
    table = pd.read_csv(demo_run / "results/dctr_toys/summary.csv")
    null = table[table.toy == "null_circle_8"]
    assert (null.s2_ratio >= 1 - 3 * null.s2_ratio_err).all(), null
    row = null.iloc[0]
    assert row.judge_auc_dctr >= row.judge_auc_gan - 3 * row.judge_auc_gan_err
    for key in ("judge_auc_gan", "judge_auc_null"):
        assert abs(row[key] - 0.5) < 4 * row[f"{key}_err"] + 0.01, (key, row[key])


def _fitting_events(demo_run):
    """Every (sample, row) a fitting step of the demo saw, per study folder: the reweighters'
    truth and generated events, a toy GAN's training sample, a learned generator's showers."""
    seen: dict[tuple[str, str], set[int]] = {}

    def add(study, sample, rows):
        seen.setdefault((study, sample), set()).update(int(r) for r in rows)

    for path in (demo_run / "results").rglob("weights*.h5"):
        if "fit/truth_index" not in h5py.File(path, "r"):
            continue
        attrs, study = read_attrs(path), str(path.parent)
        add(study, attrs["fit_truth_sample"], read_dataset(path, "fit/truth_index"))
        add(study, attrs["fit_generated_sample"], read_dataset(path, "fit/generated_index"))
    for path in (demo_run / "results/dctr_toys").glob("*/truth.h5"):
        add(str(path.parent), "train", range(len(read_dataset(path, "train"))))
    for path in (demo_run / "results/calorimeter").glob("*/generator/*/model.pt"):
        study = path.parents[2]
        state = torch.load(path, weights_only=False)
        evaluation = read_dataset(study / "truth/features.h5", "evaluation")
        fit_rows = np.flatnonzero(~evaluation)[: int(state["attrs"]["n_train"])]
        add(str(study), "truth", fit_rows)
    return seen


def test_no_summary_reads_an_event_a_fitting_step_saw(demo_run):
    """Event provenance, checked: every summary and judge states the events it measured (rows of
    named samples, and their digest); none of them was seen by any fitting step of the run — a
    reweighter's cross-fit, a GAN's or a learned generator's training."""
    from ganplify.core.events import digest

    seen = _fitting_events(demo_run)
    checked = 0
    for judge_file in (demo_run / "results").rglob("*judge*.h5"):
        if "evaluation/truth_index" not in h5py.File(judge_file, "r"):
            continue
        attrs, study = read_attrs(judge_file), str(judge_file.parent)
        for part in ("truth", "generated"):
            sample = attrs[f"evaluation_{part}_sample"]
            rows = set(read_dataset(judge_file, f"evaluation/{part}_index").tolist())
            assert rows and not rows & seen.get((study, sample), set()), (judge_file, sample)
        checked += 1
    assert checked >= len(DEMO_TOYS) + 3
    # the tables' digests are of exactly those events
    for calo in CALO_STUDIES:
        base = demo_run / "results/calorimeter" / calo
        judge = base / "judge_hl.h5"
        attrs = read_attrs(judge)
        stated = ":".join(
            digest(attrs[f"evaluation_{p}_sample"], read_dataset(judge, f"evaluation/{p}_index"))
            for p in ("truth", "generated")
        )
        for table in ("classifier_summary", "energy_bins", "challenge_metrics"):
            assert (pd.read_csv(base / f"{table}.csv").evaluation_digest == stated).all(), table


def test_bad_dctr_config_fails_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dctr:\n  calibration: platt\ndctr_toys:\n  run: [circle_9]\n")
    proc = run(snakemake_cmd("-n", "--configfile", str(bad), workdir=tmp_path), check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in text
    assert "'dctr.calibration'" in text and "'dctr_toys.run[0]'" in text


def _hl(calo, detector, sample, part):
    from ganplify.jobs.calo_classifiers import hl_inputs

    return hl_inputs(calo / f"{sample}/features.h5", detector, part)


def test_calorimeter_study_outputs(demo_run):
    """ILD: four samples (truth and generator, each with its evaluation sample), the stored
    reweighters' weights of the fitting and the evaluation showers, the judges and summaries of
    the evaluation showers."""
    calo = demo_run / "results/calorimeter/ild"
    for sample, evaluation in (("truth", False), ("truth_eval", True), ("generated", False)):
        with h5py.File(calo / f"{sample}/features.h5") as f:
            assert f["observables"].shape == (600, len(OBSERVABLES))
            assert (f["evaluation"][()] == evaluation).all()
    table = pd.read_csv(calo / "dctr_summary.csv")
    assert list(table.columns) == summary_columns(["hl", "ll"])
    assert list(table.observable) == OBSERVABLES
    assert table.groupby("group").size().to_dict() == {
        "hl": 33,
        "layer_diff": 55,
        "x2": 30,
        "y2": 30,
    }
    assert (table.targeted == (table.group == "hl")).all()
    classifiers = pd.read_csv(calo / "classifier_summary.csv")
    assert list(classifiers.columns) == CLASSIFIER_COLUMNS
    assert list(classifiers.classifier) == ["hl", "ll"]
    assert (classifiers.n_fit_truth == 600).all() and (classifiers.n_evaluation_truth == 600).all()
    assert classifiers.ll_judge_auc_dctr.isna().all()  # the demo's ILD study: judges [hl] only
    assert classifiers.ll_judge_sees_generator.isna().all()
    sees = classifiers.judge_auc_gan - 0.5 > 2 * classifiers.judge_auc_gan_err
    assert (classifiers.judge_sees_generator == sees).all()
    x_gen, x_eval = (
        _hl(calo, "ild", "generated", "fit"),
        _hl(calo, "ild", "generated_eval", "evaluation"),
    )
    names = read_attrs(calo / "weights_hl.h5")["features"]
    assert len(names) == 33
    _assert_stored_reweighter(
        calo / "weights_hl.h5", calo / "reweighter_hl.h5", x_gen, x_eval, names
    )
    from ganplify.jobs.calo_classifiers import ll_input_name

    _assert_stored_reweighter(
        calo / "weights_ll.h5", calo / "reweighter_ll.h5", None, None, ll_input_name("ild")
    )
    for name in ("hl", "ll"):
        attrs = read_attrs(calo / f"weights_{name}.h5")
        assert attrs["evaluation_generated_sample"] == "generated_eval"
        row = classifiers[classifiers.classifier == name].iloc[0]
        _assert_judged(row, calo / f"judge_{name}.h5")
        w_eval = read_dataset(calo / f"weights_{name}.h5", "evaluation/weights")
        assert w_eval.shape == (600,)
        assert row.neff_fraction == pytest.approx(w_eval.sum() ** 2 / (w_eval**2).sum() / 600)
    # the low-level weights: their own calibration and cap (the paper: temperature, 5)
    ll = _demo_settings("calorimeter", "ll")
    spec = read_attrs(calo / "weights_ll.h5")["spec"]
    assert spec["weights"]["cap"] == ll["cap"] and spec["calibration"] == ll["calibration"]
    for k in (0, 1):  # 600 showers in chunks of 300, the truth and the generator
        for sample in ("truth", "generated", "truth_eval", "generated_eval"):
            with h5py.File(calo / f"{sample}/showers/{k}.h5") as f:
                assert f["30x30/layers"].shape == (300, 30, 30, 30)
                assert f.attrs["seed_identity"] == (
                    f'["calorimeter", "ild", "{sample}", "chunk", {k}]'
                )
    for n in range(2, 9):
        assert (calo / f"figures/fig{n}.png").stat().st_size > 5000
    assert len(pd.read_csv(calo / "energy_bins.csv")) == 2  # one energy, two classifiers


def test_the_showers_null_test_reports_no_gain(demo_run):
    """null_ild: the generator is the truth simulated again. No observable group's median S²
    falls (the weights only dilute), and the judge sees no gain; its controls are at 0.5."""
    calo = demo_run / "results/calorimeter/null_ild"
    table = pd.read_csv(calo / "dctr_summary.csv")
    significant = table.s2_ratio_hl < 1 - 3 * table.s2_ratio_err_hl
    assert significant.mean() < 0.03, table[significant]
    assert table.s2_ratio_hl.median() > 0.9
    row = pd.read_csv(calo / "classifier_summary.csv").iloc[0]
    assert row.judge_auc_dctr >= row.judge_auc_gan - 3 * row.judge_auc_gan_err
    for key in ("judge_auc_gan", "judge_auc_null"):
        assert abs(row[key] - 0.5) < 4 * row[f"{key}_err"] + 0.01, (key, row[key])


def test_calochallenge_study_outputs(demo_run):
    """Dataset 1 (photons) in its own geometry: challenge files, features, conditional HL weights
    summarised per incident energy, FPD/KPD — of the evaluation showers."""
    from ganplify.calo.challenge_features import feature_names
    from ganplify.calo.detector import detector_from_config

    geometry = detector_from_config("dataset1-photons")
    calo = demo_run / "results/calorimeter/dataset1_photons"
    for k in (0, 1):
        with h5py.File(calo / f"truth/showers/{k}.h5") as f:
            assert f["showers"].shape == (300, 368)
            e = f["incident_energies"][:, 0]
            # the demo's five discrete energies, in MeV as the challenge stores them
            assert set(np.round(e).astype(int)) <= {256, 1024, 4096, 16384, 65536}
            assert len(set(e)) > 1
    # the demo's dataset 1 generator is learned (calorimeter.trained): trained on the fitting
    # truth showers, its chunks (the fitting and the evaluation draws) written in the
    # challenge's format and read like simulated ones
    model = torch.load(calo / "generator/600/model.pt", weights_only=False)
    assert model["config"]["epochs"] == _demo_settings("calorimeter", "trained")["epochs"]
    assert model["attrs"]["n_train"] == 600 and len(model["history"]) == model["config"]["epochs"]
    for sample in ("generated", "generated_eval"):
        for k in (0, 1):
            with h5py.File(calo / f"{sample}/learned/{k}.h5") as f:
                assert f["showers"].shape == (300, 368) and f.attrs["kind"] == "trained"
                assert np.isfinite(f["showers"][()]).all() and (f["showers"][()] >= 0).all()
    a = read_dataset(calo / "generated/learned/0.h5", "showers")
    assert not np.array_equal(a, read_dataset(calo / "generated_eval/learned/0.h5", "showers"))
    assert not (calo / "generated/showers").exists()
    table = pd.read_csv(calo / "dctr_summary.csv")
    assert list(table.columns) == summary_columns(["hl", "ll"])
    names = feature_names(geometry)[0]
    ratios = [
        f"log10_e_layer_{b}_over_{a}"
        for a, b in zip(geometry.layer_ids[:-1], geometry.layer_ids[1:], strict=True)
    ]
    assert list(table.observable) == names + ratios
    assert set(table.group) == {"energy", "centre", "width", "sparsity", "layer_ratio"}
    assert set(table[~table.targeted].observable) == set(ratios)
    classifiers = pd.read_csv(calo / "classifier_summary.csv")
    assert list(classifiers.classifier) == ["hl", "ll"]  # cls-high and cls-low
    for name in ("hl", "ll"):
        row = classifiers.set_index("classifier").loc[name]
        _assert_judged(row, calo / f"judge_{name}.h5")
        _assert_judged(row, calo / f"ll_judge_{name}.h5", prefix="ll_judge")
    x_gen = _hl(calo, "dataset1-photons", "generated", "fit")
    x_eval = _hl(calo, "dataset1-photons", "generated_eval", "evaluation")
    names_hl = read_attrs(calo / "weights_hl.h5")["features"]
    _assert_stored_reweighter(
        calo / "weights_hl.h5", calo / "reweighter_hl.h5", x_gen, x_eval, names_hl
    )
    bins = pd.read_csv(calo / "energy_bins.csv")
    assert list(bins.columns) == ENERGY_BIN_COLUMNS and len(bins) == 2 * 5
    assert bins.n_truth.sum() == 2 * 600 and bins.n_generated.sum() == 2 * 600
    metrics = pd.read_csv(calo / "challenge_metrics.csv")
    assert list(metrics.columns) == METRIC_COLUMNS
    assert list(metrics["sample"]) == ["generated", "dctr_hl", "dctr_ll"]
    for n in range(2, 9):
        assert (calo / f"figures/fig{n}.png").stat().st_size > 5000


def test_calo_amplification_outputs(demo_run):
    """The learned generator's amplification: per training size the training showers (the
    control, worth about their number), the generated and the weighted showers, against M."""
    from ganplify.jobs.calo_amplification import COLUMNS, event_counts

    amp = _demo_settings("calorimeter", "amplification")
    table = pd.read_csv(demo_run / "results/calorimeter/calo_amplification.csv")
    assert list(table.columns) == COLUMNS
    assert set(table.study) == {"dataset1_photons"}
    assert sorted(set(table.n_train)) == sorted(amp["n_train"])
    for n_train, rows in table.groupby("n_train"):
        for sample, m in (("training", n_train), ("generated", amp["n_generated"])):
            mine = rows[rows["sample"] == sample]
            assert list(mine.n_events) == event_counts(m)
        assert set(rows["sample"]) == {"training", "generated", "dctr_hl"}
        control = rows[(rows["sample"] == "training") & (rows.n_events == n_train)].iloc[0]
        # a truth sample is worth about its own size (tests/test_observables.py: exactly, on
        # average); one sample of a few hundred showers scatters, hence the factor 2
        assert 0.5 < control.amplification < 2.0
        assert control.n_eq_lo <= control.n_eq <= control.n_eq_hi
        np.testing.assert_allclose(rows.amplification, rows.n_eq / n_train)
    finite = table[np.isfinite(table.n_eq)]
    assert (finite.n_eq > 0).all() and (finite.mse > 0).all()
    base = demo_run / "results/calorimeter/dataset1_photons/amplification"
    with h5py.File(base / f"{n_train}.h5") as f:
        assert len(f["weights"]) == amp["n_generated"]
    # weighted by the stored reweighter, fitted on another draw of the generator
    assert (
        read_attrs(base / f"{n_train}_reweighter.h5")["info"]["n_generated"] == amp["n_generated"]
    )
    assert (demo_run / "results/calorimeter/figures/calo_amplification.png").stat().st_size > 5000


CALO_ONLY = ["--config", "parts=[calorimeter]"]


def _generator_files(tmp_path, showers, fmt="calochallenge"):
    from ganplify.calo.formats import ShowerWriter

    path = tmp_path / f"my_generator.{fmt}.h5"
    with ShowerWriter(path, fmt) as w:
        w.append(np.full(len(showers), 50.0), showers)
    return path, _generator_config(tmp_path, path)


def _generator_config(tmp_path, path, study="ild"):
    """A config that runs calorimeter study ``study`` alone, with the generator from ``path``."""
    extra = tmp_path / "generator.yaml"
    generator = {"kind": "file", "paths": [str(path)]}
    extra.write_text(
        yaml.safe_dump(
            {"calorimeter": {"run": [study], "studies": {study: {"generator": generator}}}}
        )
    )
    return extra


def test_a_users_generator_file_is_reweighted_and_corrected(tmp_path):
    """kind: file — the user's own showers (CaloChallenge format) get DCTR weights and summaries:
    half of them (at random) fit the reweighter, the other half is its evaluation sample. The
    weights correct them where nothing was fitted: S² of the 33 HL inputs falls, and so does the
    judge's AUC."""
    from ganplify.calo.simulator import FASTSIM, simulate

    showers = simulate(2400, seeding.rng(0, "user-file"), model=FASTSIM)
    path, extra = _generator_files(tmp_path, showers)
    trains = tmp_path / "trains.yaml"
    trains.write_text(
        yaml.safe_dump(
            {
                "calorimeter": {
                    "studies": {"ild": {"truth": {"n_showers": 1200}, "classifiers": ["hl"]}},
                    "chunk": 1200,
                    "hl": {"epochs": 30, "patience": 5},
                }
            }
        )
    )
    work = tmp_path / "work"
    run(
        snakemake_cmd(
            "--cores",
            "2",
            "--configfile",
            *DEMO_CONFIGS,
            str(extra),
            str(trains),
            *CALO_ONLY,
            workdir=work,
        )
    )
    calo = work / "results/calorimeter/ild"
    assert not (calo / "generated/showers").exists()  # read from the user's file, not simulated
    assert read_attrs(calo / "generated/features/1.h5")["source"] == str(path)
    assert not (calo / "generated_eval").exists()  # split off the file instead
    evaluation = read_dataset(calo / "generated/features.h5", "evaluation")
    assert evaluation.sum() == 1200 and len(evaluation) == 2400
    with h5py.File(calo / "weights_hl.h5") as f:
        assert f["weights"].shape == (1200,) and f["evaluation/weights"].shape == (1200,)
        fit_rows, eval_rows = f["fit/generated_index"][()], f["evaluation/generated_index"][()]
    assert not set(fit_rows) & set(eval_rows)
    np.testing.assert_array_equal(eval_rows, np.flatnonzero(evaluation))
    table = pd.read_csv(calo / "dctr_summary.csv")
    assert len(table) == len(OBSERVABLES)
    hl = table[table.group == "hl"]
    assert (hl.s2_dctr_hl < hl.s2_gan).mean() > 0.8 and hl.s2_ratio_hl.median() < 0.6
    row = pd.read_csv(calo / "classifier_summary.csv").iloc[0]
    assert row.judge_auc_dctr < row.judge_auc_gan - 0.1


def test_a_bad_generator_file_stops_the_study_before_any_job(tmp_path):
    import h5py as h5

    bad = tmp_path / "cylindrical.h5"
    with h5.File(bad, "w") as f:  # CaloChallenge's data set 2: 6480 voxels, not 30 x 30 x 30
        f["incident_energies"], f["showers"] = np.full((5, 1), 5e4), np.zeros((5, 6480))
    extra = _generator_config(tmp_path, bad)
    proc = run(
        snakemake_cmd("-n", "--configfile", *DEMO_CONFIGS, str(extra), workdir=tmp_path),
        check=False,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in text
    assert str(bad) in text and "dataset 'showers'" in text and "6480 voxels" in text


def test_nan_in_a_generator_file_stops_before_training_and_keeps_the_rest(tmp_path):
    from ganplify.calo.simulator import FASTSIM, simulate

    showers = simulate(400, seeding.rng(0, "user-file"), model=FASTSIM)
    showers[317, 4, 15, 15] = np.nan
    path, extra = _generator_files(tmp_path, showers, fmt="getting_high")
    work = tmp_path / "work"
    proc = run(
        snakemake_cmd(
            "--cores",
            "2",
            "--keep-going",
            "--configfile",
            *DEMO_CONFIGS,
            str(extra),
            *CALO_ONLY,
            workdir=work,
        ),
        check=False,
    )
    assert proc.returncode != 0
    calo = work / "results/calorimeter/ild"
    log = (work / "logs/calorimeter/ild/generated/features/1.log").read_text()
    assert str(path) in log and "dataset '30x30/layers'" in log and "shower 317" in log
    assert not (calo / "weights_hl.h5").exists()  # no training started
    assert (calo / "truth/features.h5").exists()  # what could be computed was kept
    assert (calo / "generated/features/0.h5").exists()


def _challenge_file(path, energies_gev, showers, calorimeter):
    from ganplify.calo.formats import CALOCHALLENGE, ShowerWriter

    with ShowerWriter(path, CALOCHALLENGE, calorimeter=calorimeter) as w:
        w.append(energies_gev, showers)
    return str(path)


def test_challenge_truth_and_submission_files_get_the_full_summary(tmp_path):
    """Truth and generator both from CaloChallenge files (dataset 1, photons): the whole summary,
    with no simulation; a generator file of another data set stops the study before any job."""
    from ganplify.calo.detector import detector_from_config
    from ganplify.calo.simulator import FASTSIM, TRUTH, simulate_energies

    g = detector_from_config("dataset1-photons")
    rng = seeding.rng(0, "challenge-files")
    files = {}
    for name, model in (("geant4", TRUTH), ("submission", FASTSIM)):
        e = rng.choice([1.024, 16.384], 400)
        showers = simulate_energies(e, rng, model=model, calorimeter=g)
        files[name] = _challenge_file(tmp_path / f"{name}.h5", e, showers, g)
    study = {
        "truth": {"kind": "file", "paths": [files["geant4"]]},
        "generator": {"kind": "file", "paths": [files["submission"]]},
    }
    extra = tmp_path / "files.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "calorimeter": {
                    "run": ["dataset1_photons"],
                    "studies": {"dataset1_photons": study},
                    "amplification": {"run": []},  # its reference needs a simulated truth
                }
            }
        )
    )
    work = tmp_path / "work"
    run(
        snakemake_cmd(
            "--cores", "2", "--configfile", *DEMO_CONFIGS, str(extra), *CALO_ONLY, workdir=work
        )
    )
    calo = work / "results/calorimeter/dataset1_photons"
    assert not (calo / "truth/showers").exists() and not (calo / "generated/showers").exists()
    bins = pd.read_csv(calo / "energy_bins.csv")
    assert len(bins) == 2 * 2  # the files' two energies, for cls-high and cls-low
    # half of each file (at random, from the seed) is its evaluation part: what is scored
    assert bins.n_truth.sum() == 2 * 200 and bins.n_generated.sum() == 2 * 200
    for sample in ("truth", "generated"):
        assert read_dataset(calo / f"{sample}/features.h5", "evaluation").sum() == 200
    samples = list(pd.read_csv(calo / "challenge_metrics.csv")["sample"])
    assert samples == ["generated", "dctr_hl", "dctr_ll"]

    other = detector_from_config("dataset2")
    wrong = _challenge_file(
        tmp_path / "dataset2.h5", np.full(5, 10.0), np.zeros((5, other.n_voxels)), other
    )
    study["generator"]["paths"] = [wrong]
    extra.write_text(
        yaml.safe_dump(
            {
                "calorimeter": {
                    "run": ["dataset1_photons"],
                    "studies": {"dataset1_photons": study},
                    "amplification": {"run": []},  # its reference needs a simulated truth
                }
            }
        )
    )
    proc = run(
        snakemake_cmd("-n", "--configfile", *DEMO_CONFIGS, str(extra), workdir=tmp_path / "w2"),
        check=False,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Job stats" not in text
    assert wrong in text and "6480 voxels, but geometry 'dataset1-photons' has 368" in text


def test_forecast_outputs(demo_run):
    """The GAN's amplification forecast from bootstrap members (tests/tiny.yaml: 2 runs of 3
    members, the camel back and the ring) beside the truth's measurement of the study's GAN."""
    fc = _demo_settings("forecast")
    sizes = [float(m) for m in _demo_settings("gan", "n_generated")] + [float("inf")]
    for study, ks, n_runs in (("camelback_1d", [10, 20, 50], 6), ("ring_2d", [9, 25, 100], 4)):
        table = pd.read_csv(demo_run / f"results/{study}/forecast.csv", keep_default_na=False)
        assert list(table.columns) == FORECAST_COLUMNS
        assert list(table.K) == [k for k in ks for _ in sizes]
        assert list(table.n_generated.astype(float)) == sizes * len(ks)
        assert (table.forecast_runs == fc["runs"]).all() and (table.members == fc["members"]).all()
        f = table.astype({c: float for c in FORECAST_COLUMNS[5:19]})
        assert (f.forecast_n_equiv_lo <= f.forecast_n_equiv).all()
        assert (f.forecast_n_equiv <= f.forecast_n_equiv_hi).all()
        np.testing.assert_allclose(f.forecast_amplification, f.forecast_n_equiv / 100)
        finite = f[np.isfinite(f.n_generated)]
        # the measurement is the equivalence table's at the largest M (the same MSEs, runs)
        assert (finite.measured_runs == n_runs).all() and (
            f.measured_runs[~f.index.isin(finite.index)] == 0
        ).all()
        eq = pd.read_csv(demo_run / f"results/{study}/equivalent_events.csv")
        gan = eq[eq.approach == "gan"].set_index("K").n_equiv
        top = finite[finite.n_generated == max(sizes[:-1])].set_index("K").measured_n_equiv
        np.testing.assert_allclose(top.to_numpy(), gan.loc[top.index].to_numpy())
        assert set(table.verdict) <= set(VERDICTS) and np.isfinite(f.misspecification).all()
        assert (table.verdict[np.isfinite(f.measured_n_equiv)] != "").all()
        assert (demo_run / f"results/{study}/figures/forecast.png").stat().st_size > 5000
    with h5py.File(demo_run / "results/camelback_1d/forecast/blocks/0.h5") as h:
        picks = h["runs/1/resample"][()]
        assert picks.shape == (fc["members"], 100) and len({tuple(r) for r in picks}) == 3
        assert h["runs/1/quantiles/K50"].shape == (fc["members"], 50)
    assert not (demo_run / "results/camelback_1d_n50/forecast.csv").exists()  # not listed


def test_calo_forecast_outputs(demo_run):
    """The learned shower generator's forecast: 3 VAEs on bootstrap resamples of its 300 training
    showers, against the reference truth that measures the generator at the same size."""
    from ganplify.jobs.calo_amplification import event_counts
    from ganplify.jobs.calo_forecast import COLUMNS

    ens = _demo_settings("calorimeter", "forecast", "ensembles", "dataset1_photons")
    calo = demo_run / "results/calorimeter/dataset1_photons"
    table = pd.read_csv(calo / "forecast.csv")
    assert list(table.columns) == COLUMNS
    assert (table.n_train == ens["n_train"]).all() and (table.members == ens["members"]).all()
    assert table.truth.str.startswith("reference").all()
    whole = table[table.observable == "all"]
    counts = event_counts(_demo_settings("calorimeter", "amplification", "n_generated"))
    assert list(whole.n_generated) == [*map(float, counts), float("inf")]
    measured = pd.read_csv(demo_run / "results/calorimeter/calo_amplification.csv")
    mine = measured[(measured.n_train == ens["n_train"]) & (measured["sample"] == "generated")]
    np.testing.assert_allclose(whole.measured_n_equiv.iloc[:-1], mine.n_eq, rtol=1e-12)
    assert set(whole.verdict.dropna()) <= set(VERDICTS)
    assert table.observable.nunique() > 5  # and every observable on its own
    assert (table.forecast_n_equiv_lo <= table.forecast_n_equiv).all()
    with (
        h5py.File(calo / "forecast/members/0.h5") as f,
        h5py.File(calo / "forecast/members/1.h5") as g,
    ):
        assert f["observables"].shape[0] == ens["n_showers"]
        assert not np.array_equal(f["resample"][()], g["resample"][()])
    assert (calo / "figures/forecast.png").stat().st_size > 5000


def test_a_users_generator_ensemble_plans_one_job_per_member(tmp_path):
    """kind: file — the user's ensemble (its members' files) is planned against the study's truth
    alone: one observables job per member and the forecast; no reference, no amplification run
    (the jobs themselves: tests/test_forecast_jobs.py)."""
    members = []
    for m in range(3):
        path = tmp_path / f"member{m}.h5"
        path.write_bytes(b"")  # planning reads no file of a member
        members.append({"paths": [str(path)]})
    extra = tmp_path / "ensemble.yaml"
    forecast = {"run": ["ild"], "ensembles": {"ild": {"kind": "file", "members": members}}}
    extra.write_text(yaml.safe_dump({"calorimeter": {"run": ["ild"], "forecast": forecast}}))
    target = "results/calorimeter/ild/forecast.csv"
    out = run(
        snakemake_cmd(target, "-n", "--configfile", *DEMO_CONFIGS, str(extra), workdir=tmp_path)
    ).stdout
    planned = job_counts(out)
    assert planned["calo_forecast_member"] == 3 and planned["calo_forecast"] == 1
    assert "calo_reference" not in planned and "train_shower_generator" not in planned
    for m in range(3):
        assert str(tmp_path / f"member{m}.h5") in out

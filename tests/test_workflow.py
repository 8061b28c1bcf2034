"""The workflow through Snakemake: planning, validation, lint, the reduced study and its report."""

import re
from collections import Counter

import h5py
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_CONFIGS, REPO, run, snakemake_cmd

from ganplify.gather import EQUIVALENCE_COLUMNS

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
    for study in ("camelback_1d", "ring_2d", "shell_5d"):
        for rule in ("sample", "fit", "train_gan", "train_ensemble"):
            assert per_study[(rule, study)] == 100, (rule, study)
        for rule in ("gather", "saturation", "plot_overview", "plot_quantile_errors"):
            assert per_study[(rule, study)] == 1, (rule, study)
    counts = job_counts(out)
    assert counts["sample"] == 300 and counts["train_ensemble"] == 300


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
    assert counts["sample"] == 100 and counts["fit"] == 100
    assert "train_gan" not in counts and "saturation" not in counts


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
    assert list(table.approach.unique()) == ["sample", "fit", "gan", "ensemble"]
    assert sorted(table.K.unique()) == [10, 20, 50]
    assert (table.n_runs == 10).all()
    sample = table[table.approach == "sample"]
    fit = table[table.approach == "fit"]
    # the sample of 100 is worth ~100 events by construction (10 runs: loose bounds)
    assert sample.n_equiv.between(60, 160).all()
    # the fit is worth more than the sample, and more so with finer resolution
    assert (fit.n_equiv.to_numpy() > 1.5 * sample.n_equiv.to_numpy()).all()
    assert fit.n_equiv.is_monotonic_increasing
    assert (table.n_equiv_lo < table.n_equiv).all() and (table.n_equiv < table.n_equiv_hi).all()
    np.testing.assert_allclose(table.amplification, table.n_equiv / 100)

    with h5py.File(demo_run / "results/camelback_1d/quantile_errors.h5") as f:
        assert f["fit/mse"].shape == (10, 3) and f["sample/mse"].shape == (10, 3)
        assert f["gan/mse"].shape == (10, 3, 3) and f["ensemble/mse"].shape == (10, 3, 3)
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
    assert set(saturation.approach) == {"gan", "ensemble"} and len(saturation) == 6
    assert (saturation.n_runs == 10).all()
    for approach in ("gan", "ensemble"):
        assert (demo_run / f"results/camelback_1d/figures/training_{approach}.png").exists()
    assert not list((demo_run / "checkpoints").rglob("*.pt"))  # removed after success

    for name in ("overview", "quantile_errors"):
        for ext in ("png", "pdf"):
            assert (demo_run / f"results/camelback_1d/figures/{name}.{ext}").stat().st_size > 5000
    summary = pd.read_csv(demo_run / "results/camelback_1d/fit_summary.csv")
    assert summary.n_fits[0] == 10 and summary.n_valid[0] + summary.n_failed[0] == 10


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
        assert "camelback" in f.attrs["config"]
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
    for name in (*REPORT_FILES_PER_STUDY, "config.yaml"):
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
    studies = ("camelback_1d", "ring_2d")
    for name in REPORT_FILES_PER_STUDY:
        assert counts[name] == len(studies), (name, counts)
    assert counts["config.yaml"] == 1
    assert all(study in html for study in studies)


def test_rerunning_a_gan_job_reproduces_it(demo_run):
    out = demo_run / "results/camelback_1d/gan/2.h5"
    with h5py.File(out) as f:
        before = f["generated"][()]
    _rerun_alone(demo_run, out)
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["generated"][()], before)


def test_ring_study_outputs(demo_run):
    """The reduced preset runs the 2D ring end to end: 6 samples, cells K = q^2."""
    table = pd.read_csv(demo_run / "results/ring_2d/equivalent_events.csv")
    assert list(table.columns) == EQUIVALENCE_COLUMNS
    assert sorted(table.K.unique()) == [9, 25, 100]
    assert (table.n_runs == 6).all()
    assert list(table.approach.unique()) == ["sample", "fit", "gan", "ensemble"]
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


def _rerun_alone(workdir, path):
    """Rerun exactly the job that makes ``path`` (--force: nothing up- or downstream)."""
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
    assert "1 of 1 steps (100%) done" in proc.stdout + proc.stderr

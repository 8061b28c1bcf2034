"""The study through a real SLURM cluster (tests/cluster/slurm-up) with profiles/slurm.

The cluster is a single node on loopback with accounting (slurmdbd + MariaDB) and fake GPUs. The
tests check that every non-local job went through sbatch (sacct lists them, training jobs with a
GPU), that the results equal those of a local run, and that a failed training is rerun alone.
"""

import os
import re
import shutil
import subprocess
import time

import pandas as pd
import pytest
from conftest import DEMO_CONFIGS, REPO, run, snakemake_cmd

pytestmark = pytest.mark.cluster

CONFIGS = [*DEMO_CONFIGS, str(REPO / "tests/slurm.yaml")]
SLURM_DIR = os.environ.get("GANPLIFY_SLURM_DIR", "/tmp/ganplify-slurm")
#: Jobs that run on the cluster (the rest are localrules): per study, one per training sample,
#: and per run the DCTR reweighting of its GAN and of its ensemble; the forecast's GAN blocks;
#: per DCTR toy (tests/slurm.yaml runs one) its truth sample, GAN, reweighter and judge.
REMOTE_RULES = ("sample", "fit", "train_block", "reweight_run", "train_forecast_block")
TOY_RULES = ("toy_truth", "train_toy_gan", "toy_dctr", "toy_judge")
#: per calorimeter sample (truth, generated and their evaluation samples; one chunk each) a
#: simulation and its observables; two reweighters and their HL judges; the challenge's FPD/KPD.
CALO_RULES = (
    "simulate_showers",
    "shower_features",
    "hl_dctr",
    "ll_dctr",
    "calo_judge",
    "calo_metrics",
)
#: tests/slurm.yaml packs 3 GANs per job: camelback_1d (3 runs) and ring_2d (2 runs) each train
#: their GANs in one block and their ensembles of 3 in one block per run.
N_BLOCKS = (1 + 3) + (1 + 2)
#: tests/slurm.yaml forecasts ring_2d from one run: its 3 bootstrap GANs train as one block.
N_FORECAST_BLOCKS = 1
N_REMOTE = (
    2 * (3 + 2) + N_BLOCKS + 2 * (3 + 2) + N_FORECAST_BLOCKS + len(TOY_RULES) + 4 * 2 + 2 + 2 + 1
)
#: GPU jobs: the GAN trainings, the toy's GAN and reweighter, the two calorimeter reweighters.
GPU_RULES = (
    "train_block",
    "train_forecast_block",
    "train_toy_gan",
    "toy_dctr",
    "hl_dctr",
    "ll_dctr",
)


def _rule_of(comment: str) -> str:
    """The rule name in the plugin's job comment, ``rule_<name>[_wildcards_<values>]``."""
    return comment.removeprefix("rule_").split("_wildcards_")[0]


@pytest.fixture(scope="module")
def slurm_env():
    if os.geteuid() != 0 and shutil.which("slurmctld") is None:
        pytest.skip("starting a SLURM cluster needs root (apt-get, munge, slurmd)")
    env = {**os.environ, "SLURM_CONF": f"{SLURM_DIR}/etc/slurm.conf"}
    already = (
        subprocess.run(["scontrol", "ping"], env=env, capture_output=True).returncode == 0
        if shutil.which("scontrol")
        else False
    )
    run([str(REPO / "tests/cluster/slurm-up")])
    yield env
    if not already:  # stop only what this test session started
        run([str(REPO / "tests/cluster/slurm-down")])


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    """profiles/slurm with the test cluster's partition and account, and fast status polling."""
    prof = tmp_path_factory.mktemp("profile") / "slurm"
    shutil.copytree(REPO / "profiles/slurm", prof)
    cfg = (prof / "config.yaml").read_text()
    cfg = cfg.replace('slurm_partition: "compute"', 'slurm_partition: "debug"')
    cfg = cfg.replace('slurm_account: "myproject"', 'slurm_account: "ganplify"')
    cfg = cfg.replace(
        "slurm-init-seconds-before-status-checks: 20",
        "slurm-init-seconds-before-status-checks: 2\nseconds-between-status-checks: 2",
    )
    cfg = cfg.replace("latency-wait: 60", "latency-wait: 10")
    # CPU requests follow the rules' threads (the demo's: 1 or 2), within the test node's 2 CPUs
    assert "cpus_per_task: 4" not in cfg
    assert "debug" in cfg and "ganplify" in cfg and "seconds-between-status-checks" in cfg
    (prof / "config.yaml").write_text(cfg)
    return prof


def _sacct(env, since: str):
    """Jobs submitted since ``since`` (sacct time): JobID, JobName, State, AllocTRES, Comment."""
    out = subprocess.run(
        ["sacct", "-n", "-P", "-X", "-S", since, "-o", "JobID,JobName,State,AllocTRES,Comment"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split("|") for line in out.strip().splitlines()]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _executed(output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a Snakemake run executed, from its log."""
    jobs = []
    for block in re.split(r"^(?:localrule|rule) ", output, flags=re.M)[1:]:
        rule = block.split(":", 1)[0].strip()
        wc = re.search(r"^\s+wildcards: (.*)$", block, flags=re.M)
        jobs.append((rule, wc[1].strip() if wc else ""))
    return jobs


def test_study_through_slurm_equals_local_run(slurm_env, profile, tmp_path):
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    # the local reference runs beside the cluster's run: SLURM's submission and polling leave
    # the CPUs idle much of the time, and neither run's results depend on the other's
    local_log = tmp_path / "local.log"
    with open(local_log, "w") as log:
        local_run = subprocess.Popen(
            snakemake_cmd("--cores", "2", "--configfile", *CONFIGS, workdir=local),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        since = _now()
        time.sleep(1)
        try:
            proc = run(
                snakemake_cmd("--profile", str(profile), "--configfile", *CONFIGS, workdir=cluster),
                env=slurm_env,
            )
        finally:
            local_run.wait()
    assert local_run.returncode == 0, local_log.read_text()[-4000:]
    out = proc.stdout + proc.stderr

    jobs = _sacct(slurm_env, since)
    assert len(jobs) == N_REMOTE, jobs
    assert all(j[2] == "COMPLETED" for j in jobs), jobs
    rules = [_rule_of(j[4]) for j in jobs]
    assert set(rules) == {*REMOTE_RULES, *TOY_RULES, *CALO_RULES}, rules
    gpu_jobs = [j for j, r in zip(jobs, rules, strict=True) if r in GPU_RULES]
    assert len(gpu_jobs) == N_BLOCKS + N_FORECAST_BLOCKS + 2 + 2
    assert all("gres/gpu=1" in j[3] for j in gpu_jobs)
    cpu_jobs = [j for j, r in zip(jobs, rules, strict=True) if r not in GPU_RULES]
    assert all("gres/gpu" not in j[3] for j in cpu_jobs)
    assert "array" in out.lower()  # trainings were submitted as job arrays

    tables = [
        f"{study}/{table}"
        for study in ("camelback_1d", "ring_2d")
        for table in ("equivalent_events.csv", "saturation.csv", "marginal_errors.csv")
    ]
    for table in (*tables, "dctr_toys/summary.csv", "calorimeter/ild/dctr_summary.csv"):
        a = pd.read_csv(local / "results" / table)
        b = pd.read_csv(cluster / "results" / table)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_failed_training_is_rerun_alone(slurm_env, profile, tmp_path):
    """keep-going finishes the rest; the next invocation reruns the failed block and its
    downstream only."""
    failing = "results/ring_2d/gan/1.h5"
    env = {**slurm_env, "GANPLIFY_FAIL_TARGETS": failing}
    # the failing study's GANplifying part alone: the other study, the toys' and the
    # calorimeter's jobs ran through SLURM above (with camelback_1d too this test took 6 min)
    args = (
        "--profile",
        str(profile),
        "--configfile",
        *CONFIGS,
        "--config",
        "parts=[amplification]",
        "studies_to_run=[ring_2d]",
    )
    first = run(snakemake_cmd(*args, workdir=tmp_path), env=env, check=False)
    assert first.returncode != 0
    assert not (tmp_path / failing).exists()
    # kept going: the ensembles' chain (training, unpacking, reweighting) ran to its end
    assert (tmp_path / "results/ring_2d/ensemble/1.h5").exists()
    assert (tmp_path / "results/ring_2d/ensemble_dctr/1.h5").exists()
    assert not (tmp_path / "results/camelback_1d").exists()
    assert not (tmp_path / "results/ring_2d/equivalent_events.csv").exists()
    assert "failing on purpose" in (tmp_path / "logs/ring_2d/train_block/gan/0.log").read_text()

    second = run(snakemake_cmd(*args, workdir=tmp_path), env=slurm_env)
    executed = _executed(second.stdout + second.stderr)
    # Exactly the failed block (ring_2d's GANs of runs 0 and 1), its runs' files, their
    # reweighting and what reads them: the overview figure draws GAN 0 of each study, so it is
    # among them.
    assert sorted(executed) == sorted(
        [
            ("train_block", "study=ring_2d, approach=gan, block=0"),
            ("unpack_run", "study=ring_2d, approach=gan, i=0"),
            ("unpack_run", "study=ring_2d, approach=gan, i=1"),
            # the reweighted GANs of those runs
            ("reweight_run", "study=ring_2d, approach=gan_dctr, i=0"),
            ("reweight_run", "study=ring_2d, approach=gan_dctr, i=1"),
            ("gather", "study=ring_2d"),
            ("saturation", "study=ring_2d"),
            ("plot_quantile_errors", "study=ring_2d"),
            ("plot_training", "study=ring_2d, approach=gan"),
            ("plot_overview", "study=ring_2d"),
            # the forecast puts the measured amplification beside its own
            ("forecast", "study=ring_2d"),
            ("all", ""),
        ]
    ), executed
    assert (tmp_path / "results/ring_2d/equivalent_events.csv").exists()


def test_a_request_no_node_can_satisfy_fails_fast(slurm_env, profile, tmp_path):
    """runtime.ll_workers: 3 makes ll_dctr ask for 1 + 3 = 4 CPUs (its threads); the test
    node has 2, so SLURM would keep it pending for ever (PartitionConfig). The run stops before
    submitting anything, naming the rule and the CPUs."""
    extra = tmp_path / "workers.yaml"
    extra.write_text("runtime:\n  ll_workers: 3\n")
    since = _now()
    time.sleep(1)
    proc = run(
        snakemake_cmd(
            "--profile",
            str(profile),
            "--configfile",
            *CONFIGS,
            str(extra),
            "--config",
            "parts=[calorimeter]",
            workdir=tmp_path,
        ),
        env=slurm_env,
        check=False,
        timeout=300,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (
        "rule 'll_dctr' asks for 4 CPUs per task, but the largest node of partition 'debug' has 2"
        in text
    ), text[-3000:]
    assert _sacct(slurm_env, since) == []  # nothing was submitted

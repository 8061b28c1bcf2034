import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


#: The reduced study with a tiny GAN: config/demo.yaml, then tests/tiny.yaml.
DEMO_CONFIGS = [str(REPO / "config/demo.yaml"), str(REPO / "tests/tiny.yaml")]


def snakemake_cmd(*args, workdir=None):
    """A snakemake command line for this checkout's Snakefile, run in ``workdir``."""
    cmd = [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile")]
    if workdir is not None:
        cmd += ["-d", str(workdir)]
    return cmd + list(args)


def run(cmd, check=True, env=None, **kw):
    env = {**(env or os.environ), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def _demo_runs(tmp_path_factory):
    """The reduced study (with a tiny GAN) run once through Snakemake, and an untouched copy."""
    work = tmp_path_factory.mktemp("demo")
    run(snakemake_cmd("--cores", "2", "--configfile", *DEMO_CONFIGS, workdir=work))
    pristine = tmp_path_factory.mktemp("demo_pristine") / "work"
    # copy2 keeps modification times, which Snakemake's rerun decisions read
    shutil.copytree(work, pristine, copy_function=shutil.copy2, symlinks=True)
    return work, pristine


@pytest.fixture(scope="session")
def demo_run(_demo_runs):
    """The finished reduced study; tests may rerun jobs in it."""
    return _demo_runs[0]


@pytest.fixture(scope="session")
def demo_pristine(_demo_runs):
    """A copy of the finished study that no test reruns anything in (for dry-run plans)."""
    return _demo_runs[1]


@pytest.fixture
def scratch(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)

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


#: The reduced study's run, started in the background as soon as the collected tests are known
#: to need it (:func:`pytest_collection_finish`): it takes minutes on two cores, and the
#: tests before the first that needs it leave much of the CPUs idle.
_BACKGROUND = {}


def _start_demo_run(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    log = open(work.parent / "demo_run.log", "w")  # noqa: SIM115 - closed by _finish_demo_run
    proc = subprocess.Popen(
        snakemake_cmd("--cores", "2", "--configfile", *DEMO_CONFIGS, workdir=work),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    _BACKGROUND["demo"] = (proc, log, work)


def pytest_collection_finish(session):
    # after every deselection (-k, -m): only the tests that will run count
    needs = {"demo_run", "demo_pristine", "_demo_runs"}
    if any(needs & set(getattr(item, "fixturenames", ())) for item in session.items):
        import tempfile

        base = Path(tempfile.mkdtemp(prefix="ganplify-demo-"))
        _start_demo_run(base / "work")


def pytest_sessionfinish(session, exitstatus):
    started = _BACKGROUND.pop("demo", None)
    if started is not None:
        proc, log, work = started
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
        log.close()
        shutil.rmtree(work.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def _demo_runs(tmp_path_factory):
    """The reduced study (with a tiny GAN) run once through Snakemake (in the background from
    the start of the session), and an untouched copy."""
    if "demo" not in _BACKGROUND:
        _start_demo_run(tmp_path_factory.mktemp("demo") / "work")
    proc, log, work = _BACKGROUND["demo"]
    proc.wait()
    log.flush()
    if proc.returncode != 0:
        text = (work.parent / "demo_run.log").read_text()
        raise AssertionError(f"the reduced study failed ({proc.returncode}):\n{text[-6000:]}")
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

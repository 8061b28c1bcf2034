"""What every job process does around its science: logging, stop signals, faults, exit codes.

- :func:`job` wraps the body of a workflow script: the job's log goes to Snakemake's ``log:``
  file (an uncaught exception too: under SLURM stderr lives elsewhere), HDF5 file locking is off
  (one file per job; locking breaks on NFS/Lustre), and a :class:`Preempted` job exits with
  :data:`EXIT_PREEMPTED` so that the scheduler's retry resumes it.
- :func:`stop_on_signals` turns SIGTERM/SIGUSR1 (SLURM preemption and time limits) into a flag
  that long jobs poll between steps, to checkpoint and stop cleanly.
- :func:`inject_fault` fails a job on purpose when its output is named in
  ``$GANPLIFY_FAIL_TARGETS``: how the tests exercise keep-going and partial reruns on a real
  scheduler.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("ganplify")

#: Exit status of a job that stopped on request after saving a checkpoint (EX_TEMPFAIL): the
#: retry, or a requeued job, resumes from the checkpoint.
EXIT_PREEMPTED = 75

#: Environment variable naming output files whose jobs must fail (comma-separated).
FAULT_ENV = "GANPLIFY_FAIL_TARGETS"


class Preempted(Exception):
    """A job stopped on request (a signal) after saving a checkpoint."""


class InjectedFault(RuntimeError):
    """Raised on purpose for a job named in ``$GANPLIFY_FAIL_TARGETS``."""


def setup_logging(path) -> None:
    """Send this process's log records (and warnings) to ``path``, Snakemake's ``log:`` file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=path,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    # A job that dies should say why in its own log, not only in the scheduler's stderr file.
    previous = sys.excepthook

    def _log_then_fail(kind, value, tb):
        log.critical("job failed", exc_info=(kind, value, tb))
        logging.shutdown()
        previous(kind, value, tb)

    sys.excepthook = _log_then_fail


@contextmanager
def job(log_path):
    """The frame of a workflow job: logging to ``log_path``, HDF5 settings, the exit-75 contract.

    Usage in a ``script:`` shim::

        with job(snakemake.log[0]):
            train_generator(...)
    """
    setup_logging(log_path)
    os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
    try:
        yield
    except Preempted as stop:
        log.warning("%s", stop)
        print(stop, file=sys.stderr)
        logging.shutdown()
        sys.exit(EXIT_PREEMPTED)


def stop_on_signals() -> Callable[[], bool]:
    """A callable that turns true once SIGTERM or SIGUSR1 has arrived."""
    received = []

    def handler(signum, frame):
        log.warning("received signal %d: checkpointing and stopping", signum)
        received.append(signum)

    for sig in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, handler)
    return lambda: bool(received)


def inject_fault(out) -> None:
    """Fail now if ``out`` is one of the targets named in ``$GANPLIFY_FAIL_TARGETS``."""
    targets = {t.strip() for t in os.environ.get(FAULT_ENV, "").split(",") if t.strip()}
    if any(Path(out) == Path(t) or str(out).endswith(t) for t in targets):
        raise InjectedFault(f"{out}: failing on purpose ({FAULT_ENV}={os.environ[FAULT_ENV]})")

"""Job plumbing: a failing job says why in its own log file."""

import subprocess
import sys


def test_uncaught_exception_is_written_to_the_job_log(tmp_path):
    log = tmp_path / "logs" / "job.log"
    code = (
        "from ganplify.core.runtime import job\n"
        f"with job({str(log)!r}):\n"
        "    raise RuntimeError('the reason this job failed')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "the reason this job failed" in proc.stderr  # still on stderr, as before
    text = log.read_text()
    assert "job failed" in text and "RuntimeError: the reason this job failed" in text

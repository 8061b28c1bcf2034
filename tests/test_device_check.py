"""The prepared GPU check cannot rot: its dry run (the same steps at toy size, on the CPU) runs."""

import json
import os
import subprocess
import sys

from conftest import REPO


def test_the_device_check_dry_run_runs_every_step(tmp_path):
    out = tmp_path / "check"
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(out)}
    proc = subprocess.run(
        ["bash", str(REPO / "benchmarks/device_check.sh"), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = (out / "summary.txt").read_text()
    steps = (
        "pytest_gpu",
        "engine_highest",
        "engine_high",
        "ll_classifier",
        "shower_generator",
        "camelback_100",
    )
    for step in steps:
        assert f"{step}: exit 0" in summary, summary
    assert "SKIPPED engine_bf16" in summary
    assert "torch" in (out / "machine.txt").read_text()
    figures = json.loads((out / "summary.json").read_text())
    assert set(figures["engine_highest"]) == {"2", "4"}  # K of the dry run
    camel = figures["camelback_100"]
    assert camel["runs"] == 3 and camel["epochs"] == 4
    for k in (10, 20, 50):
        assert camel[f"neq_K{k}_gen10000"] > 0 and camel[f"amplification_K{k}_gen10000"] > 0
    assert figures["ll_classifier"][0]["train_showers_per_s"] > 0
    generator = {r["bench"]: r for r in figures["shower_generator"]}
    assert generator["simulator"]["showers_per_s"] > 0
    assert generator["learned_generator"]["generate_showers_per_s"] > 0
    assert "camel back K=50" in summary

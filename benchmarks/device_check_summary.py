"""Summarise a device-check folder (benchmarks/device_check.sh): the figures against their goals.

    python benchmarks/device_check_summary.py benchmarks/results/device-check-2026-12-02

Reads the steps' JSON lines and the camel back's report; prints the figures the README quotes and
writes summary.json beside them. Goals (issue "one prepared GPU check"): the whole 1D study (1,100
GANs) <= 60 min on one H100/H200; the paper-size low-level workload <= 3 min; the single GAN's
N_eq ≈ 150 / 250 / 500 at K = 10 / 20 / 50 for 10,000 generated events, amplification > 5 at
K = 50 (the paper's).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PAPER_NEQ = {10: 150, 20: 250, 50: 500}


def json_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    return rows


def camelback(report: dict) -> dict:
    """N_eq of the approach (from the mean MSE over runs, as gather computes it) and G."""
    runs = report["runs"]
    out = {"runs": len(runs), "epochs": report["epochs"]}
    n_train = 100
    for k in PAPER_NEQ:
        for n in (10_000, 100_000):
            mse = sum(r[f"mse_K{k}_gen{n}"] for r in runs) / len(runs)
            neq = (k - 1) / (k * k * mse)
            out[f"neq_K{k}_gen{n}"] = neq
            out[f"amplification_K{k}_gen{n}"] = neq / n_train
    epochs = max(int(report["epochs"]), 1)
    out["s_per_gan_epoch"] = report["train_seconds_this_process"] / (len(runs) * epochs)
    return out


def main(folder) -> dict:
    folder = Path(folder)
    summary: dict = {}
    for name in ("engine_highest", "engine_high"):
        rows = [r for r in json_lines(folder / f"{name}.log") if r.get("bench") == "gan_throughput"]
        summary[name] = {str(r["K"]): r["s_per_gan_epoch"] for r in rows}
    best = summary.get("engine_high", {}) | summary.get("engine_highest", {})
    if best:
        k_max = max(best, key=int)
        # the 1D study: 100 GANs + 100 ensembles of 10 = 1,100 GANs x 10,000 epochs
        summary["study_1d_minutes_at_largest_K"] = 1100 * 10_000 * best[k_max] / 60
    summary["ll_classifier"] = json_lines(folder / "ll_classifier.log")
    summary["shower_generator"] = json_lines(folder / "shower_generator.log")
    report = folder / "camelback_100.json"
    if report.exists():
        summary["camelback_100"] = camelback(json.loads(report.read_text()))
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))
    for key, value in summary.items():
        print(f"{key}: {json.dumps(value)[:400]}")
    cb = summary.get("camelback_100")
    if cb:
        for k, paper in PAPER_NEQ.items():
            print(
                f"camel back K={k}: N_eq {cb[f'neq_K{k}_gen10000']:.0f} from 10,000 generated "
                f"(paper ≈ {paper}), amplification {cb[f'amplification_K{k}_gen10000']:.2f}"
                f" after {cb['epochs']} epochs"
            )
    return summary


if __name__ == "__main__":
    main(sys.argv[1])

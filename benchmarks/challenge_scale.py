"""CaloChallenge data sets 1 (photons), 2 and 3 through the calorimeter jobs: peak RSS and speed.

For each data set: N truth and N fastsim showers (the fitting samples) and N / 5 of each (the
evaluation samples) are simulated into challenge-format files (one job each), then the jobs of a
calorimeter study run on them exactly as the workflow runs them — the observables job (features +
value checks, streamed from the file) and its gather, the HL DCTR reweighter (the workflow's
default: config.yaml's ``calo_hl`` reweighter spec, the boosted trees; cross-fitted on the
fitting showers, stored, and applied to the evaluation showers), and the challenge's FPD/KPD of
the evaluation showers — each in a fresh process, so that its peak RSS (ru_maxrss) is that job's
alone. Printed side by side, one row per data set.

    python benchmarks/challenge_scale.py                       # 100,000 showers per sample
    python benchmarks/challenge_scale.py --showers 20000 --datasets dataset3

The goal (issue: dataset 3, 100k x 40,500 voxels, 16 GB in float32): <= 2 GB peak RSS per job.
FPD/KPD use fewer batches than the challenge's defaults (--fpd-batches, --kpd-batches): their
memory does not depend on those.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path


def _job(target, kwargs, queue):
    t0 = time.perf_counter()
    target(**kwargs)
    queue.put(
        {
            "seconds": time.perf_counter() - t0,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        }
    )


def in_process(target, **kwargs) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_job, args=(target, kwargs, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"{target.__name__} failed ({proc.exitcode})")
    return result


def _simulate(out, name, sample, n):
    from ganplify.jobs.calo_showers import simulate_showers

    kind = "simulator" if sample.startswith("truth") else "fastsim"
    simulate_showers(
        out,
        calo=name,
        sample=sample,
        index=0,
        n=n,
        sample_cfg={"kind": kind},
        detector=name,
        incident_energy=None,
        seed=1,
    )


def _features(path, out, name, n, sample):
    from ganplify.jobs.calo_showers import Segment, gather_features, segment_observables

    chunk = Path(str(out) + ".chunk.h5")
    segment_observables(Segment(str(path), "calochallenge", 0, n), chunk, detector=name)
    evaluation = "all" if sample.endswith("_eval") else "none"
    gather_features([chunk], out, sample=sample, evaluation=evaluation, seed=1)
    chunk.unlink()


def _hl(truth, gen, gen_eval, out, model, name):
    from ganplify.core.config import load_config, reweighter_spec
    from ganplify.jobs.calo_classifiers import hl_dctr

    config = load_config(Path(__file__).resolve().parents[1] / "config.yaml")
    hl_dctr(
        truth,
        gen,
        gen_eval,
        out,
        model,
        calo=name,
        detector=name,
        reweighter=reweighter_spec(config, "calo_hl"),
        seed=1,
        threads=2,
    )


def _metrics(truth, gen, weights, out, name, fpd_batches, kpd_batches):
    from ganplify.jobs.calo_summary import challenge_metrics

    challenge_metrics(
        truth,
        gen,
        {"hl": weights},
        out,
        calo=name,
        detector=name,
        fpd={"min_samples": 20000, "max_samples": 50000, "n_batches": fpd_batches, "n_points": 5},
        kpd={"n_batches": kpd_batches, "batch_size": 10000},
        seed=1,
    )


def bench(name: str, n: int, work: Path, a) -> dict:
    from ganplify.calo.detector import detector_from_config

    voxels = detector_from_config(name).n_voxels
    sizes = {"truth": n, "generated": n, "truth_eval": n // 5, "generated_eval": n // 5}
    files = {s: work / f"{name}_{s}.h5" for s in sizes}
    feats = {s: work / f"{name}_{s}_features.h5" for s in files}
    sim = {
        s: in_process(_simulate, out=files[s], name=name, sample=s, n=m) for s, m in sizes.items()
    }
    feat = {
        s: in_process(_features, path=files[s], out=feats[s], name=name, n=m, sample=s)
        for s, m in sizes.items()
    }
    weights, model = work / f"{name}_weights.h5", work / f"{name}_reweighter.h5"
    hl = in_process(
        _hl,
        truth=feats["truth"],
        gen=feats["generated"],
        gen_eval=feats["generated_eval"],
        out=weights,
        model=model,
        name=name,
    )
    met = in_process(
        _metrics,
        truth=feats["truth_eval"],
        gen=feats["generated_eval"],
        weights=weights,
        out=work / f"{name}_metrics.csv",
        name=name,
        fpd_batches=a.fpd_batches,
        kpd_batches=a.kpd_batches,
    )
    row = {
        "dataset": name,
        "showers_per_sample": n,
        "voxels": voxels,
        "data_gb_float32": sum(sizes.values()) * voxels * 4 / 1e9,
        "files_gb": sum(f.stat().st_size for f in files.values()) / 1e9,
        "simulate_showers_per_s": n / sim["truth"]["seconds"],
        "simulate_peak_rss_gb": max(s["peak_rss_gb"] for s in sim.values()),
        "features_showers_per_s": n / feat["truth"]["seconds"],
        "features_peak_rss_gb": max(f["peak_rss_gb"] for f in feat.values()),
        "hl_dctr_s": hl["seconds"],
        "hl_dctr_peak_rss_gb": hl["peak_rss_gb"],
        "metrics_s": met["seconds"],
        "metrics_peak_rss_gb": met["peak_rss_gb"],
    }
    for f in (*files.values(), *feats.values(), weights, model):
        f.unlink(missing_ok=True)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--showers", type=int, default=100_000, help="showers per sample")
    p.add_argument("--datasets", nargs="+", default=["dataset1-photons", "dataset2", "dataset3"])
    p.add_argument("--fpd-batches", type=int, default=2)
    p.add_argument("--kpd-batches", type=int, default=3)
    a = p.parse_args(argv)
    print(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as work:
        for name in a.datasets:
            row = bench(name, a.showers, Path(work), a)
            print(json.dumps(row), flush=True)
            rows.append(row)
    keys = [k for k in rows[0] if k != "dataset"]
    print("\n| quantity | " + " | ".join(r["dataset"] for r in rows) + " |")
    print("| --- |" + " --- |" * len(rows))
    for k in keys:
        cells = [f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for r in rows]
        print(f"| {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())

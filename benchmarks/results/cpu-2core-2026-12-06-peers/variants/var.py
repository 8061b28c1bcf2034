"""Variants of dctr.boosted as the reweighter; one fixed judge (dctr.boosted of the run, repeats 1)."""
import json, sys, time
from pathlib import Path
import numpy as np, yaml
sys.path.insert(0, "/work/main/benchmarks")
import reweighter_peers as rp
from ganplify.core import seeding
from ganplify.dctr.weights import effective_sample_size

results = Path(sys.argv[1]); tasks = sys.argv[2].split(","); seed = int(sys.argv[3])
variants = json.loads(sys.argv[4])
import torch; from threadpoolctl import threadpool_limits
torch.set_num_threads(1); threadpool_limits(limits=1)
import sklearn.ensemble  # noqa
import hep_ml.reweight  # noqa
config = yaml.safe_load((results / "config.yaml").read_text())["config"]
judge_cfg = {"kind": "boosted"} | {k: v for k, v in config["dctr"]["boosted"].items() if k != "calibration"} | {"repeats": 1, "learning_rate": 0.1, "patience": 30}
for task in tasks:
    xt, xg, xj, oj, og, edges, default, mlp = rp.load_task(results, task, config)
    for name, over in variants.items():
        c = json.loads(json.dumps(config)); c["dctr"]["boosted"].update(over)
        t0 = time.process_time()
        folds = int(config["dctr"]["folds"])
        cap = config["dctr"]["weights"]["cap"]
        if name == "sklearn":
            w = rp.sklearn_weights(xt, xg, cap, seed, folds)
        elif name == "hepml-cap":
            w = rp.capped(rp.hep_ml_weights(xt, xg, seed, folds), cap)
        else:
            w = rp.ganplify_weights(xt, xg, {"kind": "boosted"}, c, seed, task, folds)
        cpu = time.process_time() - t0
        ratio, err, s2 = rp.s2_ratio(oj, og, w, edges, seed, task, name, 30)
        a, aerr = rp.judge_auc(xj, xg, w, judge_cfg, config, seed, task, name, 30)
        print(f"{task:18s} {name:14s} S2r {ratio:.3f}±{err:.3f} AUC {a:.3f}±{aerr:.3f} neff {effective_sample_size(w)/len(w):.3f} cpu {cpu:.2f}", flush=True)

"""The two learned shower generators side by side on dataset 1 photons: the conditional VAE
(ganplify.calo.learned) and conditional flow matching (ganplify.calo.flow), trained on the same
truth showers and judged on fresh truth showers no training saw.

    # everything, as filed in benchmarks/results/cpu-2core-2026-12-07-flow/ (20,000 training
    # showers, 20,000 + 20,000 fresh truth showers; the VAE 150 epochs, the flow 100; both again
    # at the demo's size, 3,000 showers for ~30 s of one core)
    OMP_NUM_THREADS=1 python benchmarks/generator_compare.py all --results <folder>
    # or stage by stage (each caches its files under --work; a killed training resumes)
    python benchmarks/generator_compare.py simulate
    python benchmarks/generator_compare.py train vae --set epochs=150   # over config.yaml's
    python benchmarks/generator_compare.py train flow --set epochs=100
    python benchmarks/generator_compare.py train vae --name vae_demo --n-train 3000 --set epochs=40
    python benchmarks/generator_compare.py train flow --name flow_demo --n-train 3000 \\
        --set epochs=35
    python benchmarks/generator_compare.py evaluate control vae vae_demo flow flow_demo --steps 8 16
    python benchmarks/generator_compare.py timing --n-train 3000
    python benchmarks/generator_compare.py report --results <folder>

The truth: the project's GFlash simulator in CaloChallenge's dataset-1-photons geometry at the
demo's five incident energies (0.256 ... 65.536 GeV), three independent streams: the training
showers, the evaluation truth and a control truth (a second fresh sample: what a perfect
generator would score). A model is trained with config.yaml's ``calorimeter.trained`` settings
(``flow``: its ``flow`` section), ``--set key=value`` over them; its time per epoch is recorded.
Each model generates at the evaluation truth's incident energies (as the challenge generates at
its test file's) and is scored against the evaluation truth by

- the classifier AUC on the cls-high features (``feature_set(geometry).hl``) of the project's
  judge: the boosted trees of ``dctr.judge`` (:mod:`ganplify.dctr.judge`), cross-fitted over
  ``dctr.judge.folds`` folds (every shower scored by trees that never saw it);
- the hit count per shower against the truth's, per incident energy (mean, standard deviation,
  and the separation power S² of the two histograms with one bin per count);
- the separation power of every cls-high feature (30 bins over the truth's 0.5–99.5 % range);
- PRDC (precision, recall, density, coverage; nearest_k 5) on log10 of the voxels, zeros as 0.1,
  on ``--prdc`` showers of each (the challenge's recipe, ``prdc.compute_prdc``, reimplemented);
- generation speed on one core (showers/s, the model's whole ``generate`` call).

The control truth is scored the same way. A flow is scored with its hit boundaries calibrated
(``flow.hit_calibration``; a model saved without them is calibrated here, on its training
showers, as its training would have), uncalibrated (``{name}_raw``) and, ``--steps``, at other
ODE step counts (``{name}@{steps}``, recalibrated at that count). Training and generation
record wall and CPU seconds: on this shared machine the wall time says more about the others'
load than about the model, and even the CPU time of one thread grows under load (caches,
hyper-threads), so ``timing`` measures both models' costs again in one short run. Each stage
writes JSON under ``--work``; ``report`` collects them into a folder (``summary.json``,
``summary.csv``, ``hits.csv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
DETECTOR = "dataset1-photons"
ENERGIES = [0.256, 1.024, 4.096, 16.384, 65.536]
SEED = 2026
SAMPLES = ("train", "eval", "control")


def _config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def _threads(n: int = 1):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    threadpool_limits(limits=n, user_api="openmp")


def _dump(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=float) + "\n")


def simulate(args) -> None:
    """The three truth samples, each its own stream; cached."""
    from ganplify.jobs.calo_showers import simulate_showers

    sizes = {"train": args.n_train, "eval": args.n_eval, "control": args.n_eval}
    for sample in SAMPLES:
        out = args.work / f"{sample}.h5"
        if out.exists():
            continue
        t0 = time.perf_counter()
        simulate_showers(
            out,
            calo="generator_compare",
            sample=sample,
            index=0,
            n=sizes[sample],
            sample_cfg={"kind": "simulator"},
            detector=DETECTOR,
            incident_energy={"discrete": ENERGIES},
            seed=SEED,
        )
        print(f"simulated {sample}: {sizes[sample]} showers, {time.perf_counter() - t0:.1f} s")


def _read(path: Path):
    import h5py

    with h5py.File(path, "r") as f:
        return f["incident_energies"][:, 0] * 1e-3, f["showers"][:]


def _settings(model: str, overrides) -> dict:
    from ganplify.jobs.calo_generator import generator_training

    trained = _config()["calorimeter"]["trained"]
    base = generator_training(trained | {"model": model}, {})
    for item in overrides or []:
        key, value = item.split("=", 1)
        base[key] = yaml.safe_load(value)
    return base


def train(args) -> None:
    """Train one model (``args.model``) on the training showers; resumes a killed run."""
    from ganplify.calo import flow, formats, learned
    from ganplify.core import seeding

    _threads(args.threads)
    name = args.name or args.model
    settings = _settings(args.model, args.set)
    if args.model == "flow":
        cfg = flow.FlowConfig.from_config(settings)
        trainer_cls, run = flow.FlowTrainer, flow.train
    else:
        cfg = learned.VAEConfig.from_config(settings)
        trainer_cls, run = learned.VAETrainer, learned.train
    n = args.n_train or _read_n(args.work / "train.h5")
    data = learned.ShowerSlices(
        [(str(args.work / "train.h5"), formats.CALOCHALLENGE, 0, n)], cfg.batch_size
    )
    trainer = trainer_cls(data, cfg, seed=seeding.torch_seed(SEED, "generator_compare", name))
    ckpt = args.work / f"{name}.ckpt.pt"
    trainer.try_resume(ckpt)
    start = trainer.epoch
    t0, cpu0 = time.perf_counter(), time.process_time()
    run(trainer, checkpoint_path=ckpt, checkpoint_every=5, log_every=10)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    import torch

    state = trainer.generator().state() | {"history": np.asarray(trainer.history)}
    torch.save(state, args.work / f"{name}.pt")
    ckpt.unlink(missing_ok=True)
    info = {
        "name": name,
        "model": args.model,
        "config": settings,
        "n_train": data.n,
        "epochs": cfg.epochs,
        "epochs_this_run": cfg.epochs - start,
        "train_seconds_this_run": seconds,
        "seconds_per_epoch": seconds / max(cfg.epochs - start, 1),
        # one thread: the process's CPU time is the epoch's cost on one core, however loaded the
        # shared machine was (its wall time is not)
        "cpu_seconds_per_epoch": cpu / max(cfg.epochs - start, 1),
        "load_average": os.getloadavg(),
        "threads": args.threads,
        "history_first_last": [
            np.asarray(trainer.history[0]).tolist(),
            np.asarray(trainer.history[-1]).tolist(),
        ],
    }
    _dump(args.work / f"{name}.train.json", info)
    print(json.dumps(info))


def _read_n(path: Path) -> int:
    import h5py

    with h5py.File(path, "r") as f:
        return len(f["incident_energies"])


def _load(path: Path):
    import torch

    from ganplify.calo import flow, learned

    state = torch.load(path, weights_only=False)
    if state.get("model") == "flow":
        return flow.FlowGenerator.from_state(state)
    return learned.LearnedGenerator.from_state(state)


def _features(energies, showers):
    from ganplify.calo.detector import detector_from_config
    from ganplify.calo.features import feature_set

    fs = feature_set(detector_from_config(DETECTOR))
    return fs.hl(fs.compute(showers), energies)


def judge_auc(x_truth, x_gen, identity) -> float:
    """The project's judge (:func:`ganplify.dctr.judge.judge_auc`, ``dctr.judge`` of config.yaml):
    boosted trees of fixed size, cross-fitted, held-out AUC of truth against generated."""
    from ganplify.dctr.judge import JudgeConfig
    from ganplify.dctr.judge import judge_auc as held_out_judge

    config = JudgeConfig.from_config(_config()["dctr"]["judge"])
    value, _, _ = held_out_judge(x_truth, x_gen, None, config, seed=SEED, identity=tuple(identity))
    return float(value)


def hit_stats(e_truth, s_truth, e_gen, s_gen) -> dict:
    """Per incident energy: the hit count's mean and std (truth, generated) and the S² of the
    two count histograms (one bin per count)."""
    from ganplify.dctr.metrics import separation_power

    out = {}
    for energy in ENERGIES:
        t = (s_truth[np.isclose(e_truth, energy)] > 0).sum(1)
        g = (s_gen[np.isclose(e_gen, energy)] > 0).sum(1)
        bins = np.arange(min(t.min(), g.min()), max(t.max(), g.max()) + 2) - 0.5
        out[f"{energy:g}"] = {
            "truth_mean": float(t.mean()),
            "truth_std": float(t.std()),
            "gen_mean": float(g.mean()),
            "gen_std": float(g.std()),
            "s2": float(separation_power(t, g, bins)),
        }
    return out


def feature_s2(x_truth, x_gen) -> dict:
    """S² of every cls-high feature (by its index in the vector), 30 bins over the truth's
    0.5-99.5 % range, the tails in the end bins."""
    from ganplify.dctr.metrics import separation_power

    out = {}
    for j in range(x_truth.shape[1]):
        lo, hi = np.percentile(x_truth[:, j], [0.5, 99.5])
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        bins = np.linspace(lo, hi, 31)
        a = np.clip(x_truth[:, j], lo, hi)
        b = np.clip(x_gen[:, j], lo, hi)
        out[str(j)] = float(separation_power(a, b, bins))
    return out


def prdc(real, fake, k: int = 5, block: int = 2000) -> dict:
    """Precision, recall, density, coverage (Naeem et al. 2020; ``prdc.compute_prdc``'s
    definitions) with Euclidean distances, computed in blocks."""
    import torch

    r = torch.as_tensor(real, dtype=torch.float64)
    f = torch.as_tensor(fake, dtype=torch.float64)

    def kth(a):
        # distance to the k-th nearest neighbour other than itself
        radii = []
        for lo in range(0, len(a), block):
            d = torch.cdist(a[lo : lo + block], a)
            radii.append(d.kthvalue(k + 1, dim=1).values)
        return torch.cat(radii)

    r_real, r_fake = kth(r), kth(f)
    in_real = torch.zeros(len(f), dtype=torch.float64)  # real balls holding each fake
    nearest_fake = torch.empty(len(r), dtype=torch.float64)
    recall_hit = torch.zeros(len(r), dtype=torch.bool)
    for lo in range(0, len(f), block):
        d = torch.cdist(f[lo : lo + block], r)  # (fake block, real)
        in_real[lo : lo + block] = (d < r_real[None, :]).sum(1).double()
    for lo in range(0, len(r), block):
        d = torch.cdist(r[lo : lo + block], f)  # (real block, fake)
        nearest_fake[lo : lo + block] = d.min(1).values
        recall_hit[lo : lo + block] = (d < r_fake[None, :]).any(1)
    return {
        "precision": float((in_real > 0).double().mean()),
        "recall": float(recall_hit.double().mean()),
        "density": float(in_real.mean() / k),
        "coverage": float((nearest_fake < r_real).double().mean()),
    }


def _log_voxels(s):
    return np.log10(np.where(s > 0, s, 0.1))


def evaluate_sample(name, e_gen, s_gen, e_eval, s_eval, x_eval, args) -> dict:
    x_gen = _features(e_gen, s_gen)
    # the cls-high vectors kept for later looks (``--work``/{name}.features.npz)
    np.savez_compressed(args.work / f"{name}.features.npz", x=x_gen, e=e_gen)
    auc = judge_auc(x_eval, x_gen, ("generator_compare", name, "judge"))
    n = min(args.prdc, len(s_eval), len(s_gen))
    out = {
        "auc_cls_high": auc,
        "hits": hit_stats(e_eval, s_eval, e_gen, s_gen),
        "feature_s2": feature_s2(x_eval, x_gen),
        # per incident energy: the classifier sees log10 E_inc, a pooled S² can hide shifts
        "feature_s2_per_energy": {
            f"{energy:g}": feature_s2(
                x_eval[np.isclose(e_eval, energy)], x_gen[np.isclose(e_gen, energy)]
            )
            for energy in ENERGIES
        },
        "hits_all": {
            "truth_mean": float((s_eval > 0).sum(1).mean()),
            "gen_mean": float((s_gen > 0).sum(1).mean()),
        },
    }
    if n:
        out["prdc"] = prdc(_log_voxels(s_eval[:n]), _log_voxels(s_gen[:n])) | {"n": n}
    return out


def evaluate(args) -> None:
    """Score each named model (and the control truth) against the evaluation truth."""
    from ganplify.calo.detector import detector_from_config
    from ganplify.core import seeding

    _threads(1)
    geometry = detector_from_config(DETECTOR)
    e_eval, s_eval = _read(args.work / "eval.h5")
    x_eval = _features(e_eval, s_eval)
    for name in args.names:
        if name == "control":
            e, s = _read(args.work / "control.h5")
            t0 = time.perf_counter()
            res = {"name": "control"} | evaluate_sample(name, e, s, e_eval, s_eval, x_eval, args)
            _dump(args.work / "control.eval.json", res)
            print(json.dumps({k: res[k] for k in ("name", "auc_cls_high")}))
            continue
        gen = _load(args.work / f"{name}.pt")
        for label, variant, calibration_cpu in _variants(name, gen, args):
            rng = seeding.rng(SEED, "generator_compare", name, "generate")
            t0, cpu0 = time.perf_counter(), time.process_time()
            s_gen = variant.generate(e_eval, rng, geometry.shape)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            flow = hasattr(variant.cfg, "steps")
            res = {
                "name": label,
                "model": "flow" if flow else "vae",
                "steps": variant.cfg.steps if flow else None,
                "solver": variant.cfg.solver if flow else None,
                "calibrated": flow and variant.boundaries is not None,
                "calibration_cpu_seconds": calibration_cpu,
                "n_generated": len(s_gen),
                "generate_seconds": seconds,
                "showers_per_second_wall": len(s_gen) / seconds,
                "showers_per_second_1core": len(s_gen) / cpu,  # per CPU second (one thread)
                "load_average": os.getloadavg(),
            } | evaluate_sample(label, e_eval, s_gen, e_eval, s_eval, x_eval, args)
            _dump(args.work / f"{label}.eval.json", res)
            print(
                json.dumps(
                    {k: res[k] for k in ("name", "auc_cls_high", "showers_per_second_1core")}
                    | {"hits": res["hits_all"], "prdc": res.get("prdc")}
                )
            )


def _variants(name, gen, args):
    """``(label, generator, calibration CPU seconds)`` to score: the VAE as it is; the flow
    with its hit boundaries calibrated (as saved, or calibrated here as its training would,
    on the training showers' hit fractions), uncalibrated (``{name}_raw``: the gap's middle),
    and calibrated at each other step count of ``--steps`` (``{name}@{steps}``). The training's
    range (:meth:`ganplify.calo.flow.FlowStandardisation.clip`) is set anew from its training
    showers."""
    from dataclasses import replace

    from ganplify.calo import flow, formats, learned
    from ganplify.core import seeding

    if not hasattr(gen.cfg, "steps"):
        yield name, gen, None
        return
    info = json.loads((args.work / f"{name}.train.json").read_text())
    data = learned.ShowerSlices(
        [(str(args.work / "train.h5"), formats.CALOCHALLENGE, 0, info["n_train"])], 1000
    )
    stats = flow.standardisation(data, gen.cfg.zero_width, gen.cfg.zero_gap)
    fraction = stats.hit_fraction
    # the training's range, as the committed code keeps it (models trained before it kept it,
    # or kept it with neighbouring energies mixed in, get it here)
    gen.stats.x_max, gen.stats.vis_min = stats.x_max, stats.vis_min
    n_cal = gen.cfg.hit_calibration or flow.FlowConfig.hit_calibration
    for steps in [gen.cfg.steps, *[s for s in args.steps if s != gen.cfg.steps]]:
        variant = flow.FlowGenerator(gen.net, gen.stats, replace(gen.cfg, steps=steps))
        cpu = None
        if steps == gen.cfg.steps and gen.boundaries is not None:
            variant.boundaries = gen.boundaries
        else:
            cpu0 = time.process_time()
            rng = seeding.rng(SEED, "generator_compare", name, "calibrate", steps)
            variant.calibrate(fraction, rng, n_cal)
            cpu = time.process_time() - cpu0
        label = name if steps == gen.cfg.steps else f"{name}@{steps}"
        yield label, variant, cpu
        if steps == gen.cfg.steps:
            raw = flow.FlowGenerator(gen.net, gen.stats, gen.cfg)
            yield f"{name}_raw", raw, None


def timing(args) -> None:
    """Each model's training cost per epoch and generation rate on one core, measured in one
    short run (an epoch of warm-up, then ``--epochs`` timed; the networks' initial weights: a
    pass costs the same whatever their values), so that both see the same machine load."""
    from dataclasses import replace

    from ganplify.calo import flow, formats, learned
    from ganplify.calo.detector import detector_from_config

    _threads(1)
    geometry = detector_from_config(DETECTOR)
    out = {"load_average_before": os.getloadavg(), "n_train": args.n_train}
    for model in ("vae", "flow"):
        settings = _settings(model, None)
        if model == "flow":
            cfg = replace(flow.FlowConfig.from_config(settings), epochs=args.epochs + 1)
            trainer_cls = flow.FlowTrainer
        else:
            cfg = replace(learned.VAEConfig.from_config(settings), epochs=args.epochs + 1)
            trainer_cls = learned.VAETrainer
        data = learned.ShowerSlices(
            [(str(args.work / "train.h5"), formats.CALOCHALLENGE, 0, args.n_train)],
            cfg.batch_size,
        )
        trainer = trainer_cls(data, cfg, seed=1)
        trainer.train_epoch()  # warm-up
        t0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(args.epochs):
            trainer.train_epoch()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        gen = (
            trainer.generator()
            if model == "vae"
            else flow.FlowGenerator(trainer.net, trainer.stats, cfg)
        )
        energies = np.repeat(ENERGIES, args.n_generate // len(ENERGIES))
        rates = {}
        for steps in [None] if model == "vae" else [cfg.steps, *args.steps]:
            kw = {} if steps is None else {"steps": steps}
            c0 = time.process_time()
            gen.generate(energies, np.random.default_rng(0), geometry.shape, **kw)
            rates[str(steps or "")] = len(energies) / (time.process_time() - c0)
        out[model] = {
            "wall_seconds_per_epoch": wall / args.epochs,
            "cpu_seconds_per_epoch": cpu / args.epochs,
            "showers_per_cpu_second_training": data.n * args.epochs / cpu,
            "generated_showers_per_cpu_second": rates,
        }
    out["load_average_after"] = os.getloadavg()
    _dump(args.work / f"timing_{args.n_train}.json", out)
    print(json.dumps(out))


def report(args) -> None:
    """Collect the stages' JSON into ``--results``."""
    args.results.mkdir(parents=True, exist_ok=True)
    trains = {
        p.name.split(".")[0]: json.loads(p.read_text()) for p in args.work.glob("*.train.json")
    }
    evals = [json.loads(p.read_text()) for p in sorted(args.work.glob("*.eval.json"))]
    # flows scored before their samples were held inside the training's range (kept by hand
    # under noclip/ when that came in): labelled {name}_noclip
    for p in sorted(args.work.glob("noclip/*.eval.json")):
        r = json.loads(p.read_text())
        evals.append(r | {"name": r["name"] + "_noclip"})
    machine = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "n": {s: _read_n(args.work / f"{s}.h5") for s in SAMPLES},
        "energies_gev": ENERGIES,
    }
    timings = {p.stem: json.loads(p.read_text()) for p in sorted(args.work.glob("timing_*.json"))}
    _dump(
        args.results / "summary.json",
        {"machine": machine, "train": trains, "eval": evals, "timing": timings},
    )
    with open(args.results / "summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["name", "auc_cls_high", "hits_truth_mean", "hits_gen_mean", "precision", "recall",
             "density", "coverage", "showers_per_cpu_s", "train_cpu_s_per_epoch", "epochs",
             "n_train"]
        )  # fmt: skip
        for r in evals:
            p = r.get("prdc", {})
            model = r["name"].removesuffix("_noclip").removesuffix("_raw").split("@")[0]
            t = trains.get(model, {})
            w.writerow(
                [
                    r["name"],
                    f"{r['auc_cls_high']:.4f}",
                    f"{r['hits_all']['truth_mean']:.1f}",
                    f"{r['hits_all']['gen_mean']:.1f}",
                    *(f"{p[k]:.3f}" if k in p else "" for k in PRDC_KEYS),
                    f"{r['showers_per_second_1core']:.0f}" if "steps" in r else "",
                    f"{t['cpu_seconds_per_epoch']:.2f}" if t else "",
                    t.get("epochs", ""),
                    t.get("n_train", ""),
                ]
            )
    with open(args.results / "hits.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "energy_gev", "truth_mean", "truth_std", "gen_mean", "gen_std", "s2"])
        for r in evals:
            for energy, h in r["hits"].items():
                w.writerow(
                    [r["name"], energy]
                    + [f"{h[k]:.4g}" for k in ("truth_mean", "truth_std", "gen_mean", "gen_std")]
                    + [f"{h['s2']:.4g}"]
                )
    print((args.results / "summary.csv").read_text())


PRDC_KEYS = ("precision", "recall", "density", "coverage")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=REPO / "benchmarks/out/generator_compare")
    sub = p.add_subparsers(dest="stage", required=True)
    s = sub.add_parser("simulate")
    s.add_argument("--n-train", type=int, default=20000)
    s.add_argument("--n-eval", type=int, default=20000)
    t = sub.add_parser("train")
    t.add_argument("model", choices=["vae", "flow"])
    t.add_argument("--name", help="file name of the model (default: the model)")
    t.add_argument("--set", nargs="*", help="key=value over config.yaml's settings")
    t.add_argument("--n-train", type=int, default=0, help="first N training showers (0: all)")
    t.add_argument("--threads", type=int, default=1)
    e = sub.add_parser("evaluate")
    e.add_argument("names", nargs="+", help="trained models' names, and/or 'control'")
    e.add_argument("--steps", type=int, nargs="*", default=[], help="other flow step counts")
    e.add_argument("--prdc", type=int, default=10000, help="showers per side for PRDC (0: none)")
    m = sub.add_parser("timing")
    m.add_argument("--n-train", type=int, default=3000)
    m.add_argument("--epochs", type=int, default=3)
    m.add_argument("--n-generate", type=int, default=2000)
    m.add_argument("--steps", type=int, nargs="*", default=[8, 16])
    r = sub.add_parser("report")
    r.add_argument("--results", type=Path, required=True)
    a = sub.add_parser("all")
    a.add_argument("--results", type=Path, required=True)
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.stage == "all":
        ns = argparse.Namespace
        simulate(ns(work=args.work, n_train=20000, n_eval=20000))
        for model, name, n, epochs in (
            ("vae", "vae", 0, 150),
            ("flow", "flow", 0, 100),
            ("vae", "vae_demo", 3000, 40),
            ("flow", "flow_demo", 3000, 35),
        ):
            kw = dict(work=args.work, model=model, name=name, n_train=n, threads=1)
            train(ns(**kw, set=[f"epochs={epochs}"]))
        names = ["control", "vae", "vae_demo", "flow", "flow_demo"]
        evaluate(ns(work=args.work, names=names, steps=[8, 16], prdc=10000))
        timing(ns(work=args.work, n_train=3000, epochs=3, n_generate=2000, steps=[8, 16]))
        report(args)
        return
    stages = {"simulate": simulate, "train": train, "evaluate": evaluate, "timing": timing}
    (stages | {"report": report})[args.stage](args)


if __name__ == "__main__":
    main()

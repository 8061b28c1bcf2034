"""rules/calorimeter.smk: showers (simulated or from files), their observables, the high-level DCTR
classifier, the summaries and figures.

A *sample* ("truth" or "generated") is a list of segments: slices of shower files, each read and
turned into observables by one job. A simulated sample's segments are its chunk files
(``results/calorimeter/{sample}/showers/{k}.h5``, getting_high format, made by one job each); a
sample from files (``kind: file``) is cut into segments of ``chunk`` showers. Where the showers
come from is the sample's *kind*; a neural generator would join as another kind.

Files: ``{sample}/features/{k}.h5`` (observables of segment k), ``{sample}/features.h5`` (all of
them), ``weights_hl.h5`` and ``closure_hl.h5`` (the cross-fitted HL classifier's out-of-fold outputs
and weights; the closure classifier's), ``dctr_summary.csv`` (per observable),
``classifier_summary.csv`` (per classifier).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..calo import formats
from ..calo.features import GROUPS, OBSERVABLES, hl_inputs, observables
from ..calo.geometry import Calorimeter
from ..calo.simulator import FASTSIM, TRUTH, ShowerModel, simulate_chunk
from ..core import seeding
from ..core.io import provenance, read_attrs, read_dataset, write_csv, write_h5
from ..core.runtime import inject_fault
from .common import cross_fit_job, torch_device

log = logging.getLogger("ganplify")

#: Sample kinds made by the parametrised simulator, with the model each starts from.
SIMULATED = {"simulator": TRUTH, "fastsim": FASTSIM}
#: Sample kinds read from shower files.
FROM_FILES = ("file",)

SUMMARY_COLUMNS = [
    "observable",
    "group",
    "s2_gan",
    "s2_dctr_hl",
    "s2_ratio_hl",
    "r_gan",
    "r_dctr_hl",
    "neff_fraction_hl",
]
CLASSIFIER_COLUMNS = [
    "classifier",
    "n_truth",
    "n_generated",
    "auc_gan",
    "jsd_gan",
    "auc_closure",
    "jsd_closure",
    "neff_fraction",
    "n_capped",
    "median_weight",
    "max_weight",
    "n_extreme",
]


def calorimeter_from_config(detector: Mapping) -> Calorimeter:
    """The geometry of the config's ``calorimeter.detector`` section."""
    absorber = tuple(
        float(block["absorber_mm"]) for block in detector["layers"] for _ in range(block["n"])
    )
    return Calorimeter(
        n_layers=len(absorber),
        n_cells=int(detector["n_cells"]),
        cell_mm=float(detector["cell_mm"]),
        absorber_mm=absorber,
        silicon_mm=float(detector["silicon_mm"]),
        readout_mm=float(detector["readout_mm"]),
        threshold_mev=float(detector["threshold_mev"]),
    )


def shower_model(sample_cfg: Mapping) -> ShowerModel:
    """The parametrisation of a simulated sample: its kind's model with the config's overrides."""
    base = SIMULATED[sample_cfg["kind"]]
    return ShowerModel.from_config({**asdict(base), **sample_cfg.get("model", {})})


@dataclass(frozen=True)
class Segment:
    """Showers ``start`` … ``stop`` − 1 of ``path``."""

    path: str
    format: str | None
    start: int
    stop: int

    @property
    def n(self) -> int:
        return self.stop - self.start


def plan_segments(
    sample: str, sample_cfg: Mapping, chunk: int, calorimeter: Calorimeter
) -> list[Segment]:
    """The segments of a sample, one job each.

    Simulated: ``ceil(n_showers / chunk)`` chunk files to be made. From files: every file is
    checked now (structure, from its metadata) — a bad file stops the study here, naming the
    file and the dataset — and cut into segments of ``chunk`` showers.
    """
    kind = sample_cfg["kind"]
    if kind in SIMULATED:
        n = int(sample_cfg["n_showers"])
        return [
            Segment(f"results/calorimeter/{sample}/showers/{k}.h5", formats.GETTING_HIGH, 0, m)
            for k, m in enumerate(_chunk_sizes(n, chunk))
        ]
    segments = []
    fmt = None if sample_cfg.get("format", "auto") == "auto" else sample_cfg["format"]
    for path in sample_cfg["paths"]:
        source = formats.inspect(path, calorimeter, fmt)
        for lo in range(0, source.n_showers, chunk):
            segments.append(
                Segment(str(path), source.format, lo, min(lo + chunk, source.n_showers))
            )
    return segments


def _chunk_sizes(n: int, chunk: int) -> list[int]:
    return [min(chunk, n - lo) for lo in range(0, n, chunk)]


def simulate_showers(
    out,
    *,
    sample: str,
    index: int,
    n: int,
    sample_cfg: Mapping,
    detector: Mapping,
    energy_gev: float,
    seed: int,
    batch: int = 250,
) -> None:
    """Simulate chunk ``index`` of a sample (its own random stream) into a getting_high file."""
    inject_fault(out)
    calo = calorimeter_from_config(detector)
    model = shower_model(sample_cfg)
    rng = seeding.rng(seed, "calorimeter", sample, "chunk", index)
    attrs = provenance(
        seed=seed,
        seed_identity=["calorimeter", sample, "chunk", index],
        sample=sample,
        kind=sample_cfg["kind"],
        model=asdict(model),
        detector=dict(detector),
        energy_gev=float(energy_gev),
    )
    with formats.ShowerWriter(out, formats.GETTING_HIGH, calorimeter=calo, attrs=attrs) as w:
        for showers in simulate_chunk(
            int(n), rng, energy_gev=energy_gev, model=model, calorimeter=calo, batch=batch
        ):
            w.append(np.full(len(showers), float(energy_gev)), showers)
    log.info("%s chunk %d: %d showers (%s) written to %s", sample, index, n, model, out)


def segment_observables(
    segment: Segment, out, *, detector: Mapping, read_chunk: int = 1000
) -> None:
    """Observables of the showers of one segment, checked value by value on the way."""
    calo = calorimeter_from_config(detector)
    source = formats.inspect(segment.path, calo, segment.format)
    parts, energies = [], []
    for j, (e, s) in enumerate(
        formats.iter_showers(source, read_chunk, segment.start, segment.stop)
    ):
        formats.check_values(source, e, s, segment.start + j * read_chunk)
        parts.append(observables(s).astype(np.float32))
        energies.append(e)
    write_h5(
        out,
        {"observables": np.concatenate(parts), "incident_energy": np.concatenate(energies)},
        provenance(
            source=segment.path,
            format=source.format,
            start=segment.start,
            stop=segment.stop,
            observables=OBSERVABLES,
        ),
    )


def gather_features(chunk_files: Sequence[str], out) -> None:
    """The observables of all segments of a sample in one file, in segment order."""
    obs = np.concatenate([read_dataset(f, "observables") for f in chunk_files])
    energy = np.concatenate([read_dataset(f, "incident_energy") for f in chunk_files])
    write_h5(
        out,
        {"observables": obs, "incident_energy": energy},
        provenance(observables=OBSERVABLES, segments=[str(f) for f in chunk_files]),
    )


def _features(path) -> np.ndarray:
    return read_dataset(path, "observables").astype(np.float64)


def _hl_cross_fit(truth_file, gen_file, **kw):
    """Cross-fit the HL-feature MLP (:func:`.common.cross_fit_job` on the 33 HL inputs)."""
    x_truth, x_gen = hl_inputs(_features(truth_file)), hl_inputs(_features(gen_file))
    return cross_fit_job(x_truth, x_gen, **kw)


def hl_dctr(
    truth_file,
    gen_file,
    out,
    *,
    classifier: Mapping,
    folds: int,
    calibration: str,
    weights: Mapping,
    seed: int,
    threads: int = 1,
) -> None:
    """The cross-fitted high-level classifier (33 inputs) and the generated showers' weights."""
    inject_fault(out)
    from ..dctr.weights import WeightSettings, dctr_weights

    cf, datasets, attrs = _hl_cross_fit(
        truth_file,
        gen_file,
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("calorimeter", "hl", "dctr"),
        threads=threads,
    )
    w, diag = dctr_weights(cf.h_gen, WeightSettings.from_config(weights))
    attrs |= {"weight_settings": dict(weights), "diagnostics": diag.as_dict()}
    write_h5(out, {**datasets, "weights": w}, provenance(**attrs))
    log.info("HL weights: %s", diag.as_dict())


def closure(
    truth_file,
    gen_file,
    weights_file,
    out,
    *,
    judged: str,
    classifier: Mapping,
    folds: int,
    calibration: str,
    seed: int,
    threads: int = 1,
) -> None:
    """Closure test of classifier ``judged``'s weights: a fresh cross-fitted HL-feature classifier
    of truth against the *weighted* generated showers. AUC ≈ 0.5 when the weights are right (as far
    as the 33 HL features can tell)."""
    inject_fault(out)
    _, datasets, attrs = _hl_cross_fit(
        truth_file,
        gen_file,
        classifier=classifier,
        folds=folds,
        calibration=calibration,
        seed=seed,
        identity=("calorimeter", judged, "closure"),
        threads=threads,
        w_gen=read_dataset(weights_file, "weights"),
    )
    write_h5(out, datasets, provenance(**attrs, judged=judged, weights_file=str(weights_file)))


def ll_dctr(
    out,
    *,
    truth_segments: Sequence[Segment],
    gen_segments: Sequence[Segment],
    network: Mapping,
    folds: int,
    calibration: str,
    weights: Mapping,
    validation_fraction: float,
    seed: int,
    detector: Mapping,
    threads: int = 1,
    workers: int = 0,
) -> None:
    """The cross-fitted low-level (3D CNN) classifier on the showers themselves, streamed from the
    files, and the generated showers' weights.

    Folds are assigned by slices of ``batch_size / 2`` consecutive showers; in each fold a random
    ``validation_fraction`` of the training slices is held out to fit the temperature.
    """
    inject_fault(out)
    import torch

    from ..calo.streaming import PairedBatches, SliceBatches, loader, slices
    from ..dctr.crossfit import cross_fit_with, fold_ids
    from ..dctr.lowlevel import LowLevelConfig, predict_batches, train_network
    from ..dctr.metrics import auc, jsd_from_bce
    from ..dctr.weights import WeightSettings, dctr_weights

    cfg = LowLevelConfig.from_config(network)
    device = torch_device(threads)
    shape = calorimeter_from_config(detector).shape
    size = max(1, cfg.batch_size // 2)
    parts = {
        "truth": slices([(s.path, s.format, s.start, s.stop) for s in truth_segments], size),
        "gen": slices([(s.path, s.format, s.start, s.stop) for s in gen_segments], size),
    }
    n = {k: sum(p.n for p in v) for k, v in parts.items()}
    rng = seeding.rng(seed, "calorimeter", "ll", "folds")
    slice_folds = {k: fold_ids(len(v), int(folds), rng) for k, v in parts.items()}
    event_folds = {k: np.repeat(slice_folds[k], [p.n for p in parts[k]]) for k in parts}

    def positions(chosen) -> np.ndarray:
        return np.concatenate([np.arange(p.index, p.index + p.n) for p in chosen] or [[]]).astype(
            int
        )

    def predict(model, sample: str, index: np.ndarray) -> np.ndarray:
        wanted = set(index.tolist())
        chosen = [p for p in parts[sample] if p.index in wanted]
        batches = loader(SliceBatches(chosen, shape), workers=workers, device=device)
        return predict_batches(model, batches, n[sample], bf16=cfg.bf16)[index]

    def train_fold(f, _idx_t, _idx_g):
        vrng = seeding.rng(seed, "calorimeter", "ll", "validation", f)
        chosen = {}
        for k in parts:
            train = [p for p, fo in zip(parts[k], slice_folds[k], strict=True) if fo != f]
            if len(train) < 2:
                raise ValueError(
                    f"LL classifier: {len(train)} {k} slice(s) of {size} showers in a fold's "
                    f"training set; need at least 2 (more showers or a smaller batch_size)"
                )
            n_held = min(len(train) - 1, max(1, round(validation_fraction * len(train))))
            held = np.zeros(len(train), dtype=bool)
            held[vrng.permutation(len(train))[:n_held]] = True
            chosen[k] = (
                [p for p, h in zip(train, held, strict=True) if not h],
                [p for p, h in zip(train, held, strict=True) if h],
            )
        data = PairedBatches(
            chosen["gen"][0],
            chosen["truth"][0],
            shape,
            seed=seeding.torch_seed(seed, "calorimeter", "ll", "batches", f),
        )
        model, losses = train_network(
            loader(data, workers=workers, device=device),
            cfg,
            seed=seeding.torch_seed(seed, "calorimeter", "ll", "fold", f),
            device=device,
            shape=shape,
        )
        log.info("LL fold %d: %d steps, final loss %.4f", f, len(losses), losses[-50:].mean())

        def predictor(it, ig):
            return predict(model, "truth", it), predict(model, "gen", ig)

        validation = (positions(chosen["truth"][1]), positions(chosen["gen"][1]))
        return predictor, validation, np.stack([losses, losses], axis=1)

    cf = cross_fit_with(
        n["truth"],
        n["gen"],
        train_fold,
        folds=int(folds),
        calibration=calibration,
        rng=rng,
        fold_truth=event_folds["truth"],
        fold_gen=event_folds["gen"],
    )
    w, diag = dctr_weights(cf.h_gen, WeightSettings.from_config(weights))
    h = np.concatenate([cf.h_truth, cf.h_gen])
    y = np.concatenate([np.ones(n["truth"]), np.zeros(n["gen"])])
    write_h5(
        out,
        {
            "h_truth": cf.h_truth,
            "h_gen": cf.h_gen,
            "weights": w,
            "fold_gen": cf.fold_gen,
            **{f"history/fold{f}": hist[:, 0] for f, hist in enumerate(cf.histories)},
        },
        provenance(
            seed=seed,
            network=dict(network),
            folds=int(folds),
            calibration=calibration,
            temperatures=[c.temperature for c in cf.calibrations],
            weight_settings=dict(weights),
            diagnostics=diag.as_dict(),
            auc=auc(h, y),
            jsd=jsd_from_bce(h, y),
            device=str(device),
            torch_version=torch.__version__,
        ),
    )
    log.info("LL weights: %s", diag.as_dict())


def observable_edges(truth: np.ndarray, n_edges: int) -> list[np.ndarray]:
    """Histogram edges per observable: ``n_edges`` between the truth's 0.1 and 99.9 % quantiles
    (the paper: 20 edges over fixed ranges fitted to its Geant4 showers)."""
    lo, hi = np.quantile(truth, [0.001, 0.999], axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    return [np.linspace(a, b, int(n_edges)) for a, b in zip(lo, hi, strict=True)]


def calo_summary(
    truth_file,
    gen_file,
    weights: Mapping[str, str],
    closures: Mapping[str, str],
    out_csv,
    out_classifiers_csv,
    *,
    n_edges: int,
    bootstrap_replicas: int,
    seed: int,
) -> list[dict]:
    """S², S² ratio and r per observable for the generator and each weighted version; one row per
    classifier with its AUCs and weight diagnostics. ``weights[name]``: weights file of classifier
    ``name`` ("hl", later "ll"); ``closures[name]``: its closure file."""
    from ..dctr.metrics import dilution, separation_power

    ft, fg = _features(truth_file), _features(gen_file)
    edges = observable_edges(ft, n_edges)
    boot = {"n_replicas": int(bootstrap_replicas)}
    r_gan = dilution(ft, fg, rng=seeding.rng(seed, "calorimeter", "r", "gan"), **boot)
    per_classifier = {}
    for name, path in weights.items():
        w = read_dataset(path, "weights")
        r = dilution(ft, fg, w_gen=w, rng=seeding.rng(seed, "calorimeter", "r", name), **boot)
        per_classifier[name] = (w, r, read_attrs(path))
    rows = []
    for j, obs in enumerate(OBSERVABLES):
        s2_gan = separation_power(ft[:, j], fg[:, j], edges[j])
        row = {"observable": obs, "group": GROUPS[obs], "s2_gan": s2_gan, "r_gan": float(r_gan[j])}
        for name, (w, r, attrs) in per_classifier.items():
            s2 = separation_power(ft[:, j], fg[:, j], edges[j], w2=w)
            row |= {
                f"s2_dctr_{name}": s2,
                f"s2_ratio_{name}": s2 / s2_gan if s2_gan > 0 else float("nan"),
                f"r_dctr_{name}": float(r[j]),
                f"neff_fraction_{name}": float(attrs["diagnostics"]["n_eff_fraction"]),
            }
        rows.append(row)
    columns = list(SUMMARY_COLUMNS)
    for name in per_classifier:
        if name != "hl":
            columns += [
                f"s2_dctr_{name}",
                f"s2_ratio_{name}",
                f"r_dctr_{name}",
                f"neff_fraction_{name}",
            ]
    write_csv(out_csv, rows, columns)
    classifier_rows = []
    for name, (_, _, attrs) in per_classifier.items():
        d = attrs["diagnostics"]
        closure = read_attrs(closures[name]) if name in closures else {}
        classifier_rows.append(
            {
                "classifier": name,
                "n_truth": len(ft),
                "n_generated": len(fg),
                "auc_gan": float(attrs["auc"]),
                "jsd_gan": float(attrs["jsd"]),
                "auc_closure": float(closure.get("auc", float("nan"))),
                "jsd_closure": float(closure.get("jsd", float("nan"))),
                "neff_fraction": float(d["n_eff_fraction"]),
                "n_capped": int(d["n_capped"]),
                "median_weight": float(d["median"]),
                "max_weight": float(d["max"]),
                "n_extreme": int(d["n_extreme"]),
            }
        )
    write_csv(out_classifiers_csv, classifier_rows, CLASSIFIER_COLUMNS)
    return rows


#: The observables drawn in Figs. 3–7 (the paper shows representative layers).
FIGURE_OBSERVABLES = {
    "fig3": ["n_hit", "e_vis", "centroid"],
    "fig4": [f"e_layer_{i}" for i in (1, 5, 10, 15, 20, 25)],
    "fig5": [
        "e_layer_5_minus_6",
        "e_layer_10_minus_11",
        "e_layer_15_minus_16",
        "e_layer_5_minus_9",
        "e_layer_10_minus_14",
        "e_layer_20_minus_24",
    ],
    "fig6": [f"x2_layer_{i}" for i in (1, 5, 10, 15, 20, 25)],
    "fig7": [
        "n_hit",
        "centroid",
        "e_vis",
        *(f"e_layer_{i}" for i in (0, 5, 10, 15, 20, 25)),
        "x2_layer_10",
    ],
}
FIGURE_TITLES = {
    "fig3": "Hit cells, visible energy, longitudinal centroid",
    "fig4": "Energy in representative layers (MeV)",
    "fig5": "Layer energy differences (MeV)",
    "fig6": "Energy-weighted second moment in x per layer (not seen by the HL classifier)",
}
#: The groups of Fig. 8.
SUMMARY_GROUPS = {
    "hl": "33 HL inputs",
    "x2": "30 layers' <X²>",
    "layer_diff": "layer differences",
}


def calo_figures(
    truth_file,
    gen_file,
    weights: Mapping[str, str],
    summary_csv,
    *,
    n_edges: int,
    outputs: Mapping[str, str],
    gen_label: str = "Generator",
) -> None:
    """Figs. 2–8 of the DCTR paper for the calorimeter (``outputs[figN]`` → path)."""
    import pandas as pd

    from ..core.plotting import save
    from ..dctr import figures

    ft, fg = _features(truth_file), _features(gen_file)
    w = {name: read_dataset(path, "weights") for name, path in weights.items()}
    summary = pd.read_csv(summary_csv)
    rows = summary.set_index("observable")
    edges = observable_edges(ft, n_edges)
    save(figures.weights_figure(w), [outputs["fig2"]])
    for fig, names in FIGURE_OBSERVABLES.items():
        cols = [OBSERVABLES.index(n) for n in names]
        if fig == "fig7":
            made = figures.correlation_figure(names, ft[:, cols], fg[:, cols], w, gen_label)
        else:
            made = figures.observables_figure(
                names,
                ft[:, cols],
                fg[:, cols],
                [edges[c] for c in cols],
                w,
                rows,
                title=FIGURE_TITLES[fig],
                gen_label=gen_label,
            )
        save(made, [outputs[fig]])
    save(
        figures.summary_figure(summary, list(weights), SUMMARY_GROUPS, gen_label),
        [outputs["fig8"]],
    )

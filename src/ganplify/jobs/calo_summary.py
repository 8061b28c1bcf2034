"""rules/calo_summary.smk: a calorimeter study's summaries, the challenge's metrics and figures.

Every number here is measured on *evaluation* showers — the truth's and the generator's — that
no fitting step saw, the generator's weighted by the stored reweighters (docs/science.md §2.8);
each table states how many and which (``n_evaluation_*``, ``evaluation_digest``:
:func:`ganplify.core.events.digest` of the showers' sample and rows).

- ``dctr_summary.csv``: per observable S² of the generator and of each classifier's weighted
  generator, their ratio (with its bootstrap error over the showers), the S² expected of two
  samples of one density at these sizes (the floor), the dilution r, N_eff/N and eq. 9; whether
  the observable is a classifier input (``targeted``) — a gain shows on those that are not;
- ``classifier_summary.csv``: per classifier the judges' AUCs (HL trees, LL network) of the
  weighted showers, with their controls (the unweighted showers; truth against truth carrying
  the weights), and the weight diagnostics;
- ``energy_bins.csv``: the same S² and r summaries per bin of incident energy (one bin per
  discrete energy; log bins for a continuous spectrum): the weights are conditional, w(x | E), so
  they must hold at every energy, not on average;
- ``challenge_metrics.csv``: the CaloChallenge's FPD and KPD (× 10³) on the HL (cls-high) vectors,
  of the generator and of each weighted generator;
- ``figures/fig2–8.png``: the DCTR paper's figures (ILD) or their per-layer analogues.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..calo.detector import detector_from_config, spectrum_from_config
from ..calo.features import feature_set
from ..core import seeding
from ..core.io import read_attrs, read_dataset, write_csv
from .calo_classifiers import hl_inputs
from .calo_showers import read_features

#: dctr_summary.csv: these, then per classifier that ran :data:`PER_CLASSIFIER_COLUMNS`
SUMMARY_COLUMNS = ["observable", "group", "targeted", "s2_gan", "s2_floor_gan", "r_gan"]
PER_CLASSIFIER_COLUMNS = [
    "s2_dctr",
    "s2_ratio",
    "s2_ratio_err",
    "s2_floor",
    "r_dctr",
    "neff_fraction",
    "eq9_ratio",
]
#: the judges' AUC columns of classifier_summary.csv: per judge (hl, ll) the weighted showers'
#: and the two controls', each with its error
JUDGE_COLUMNS = [
    f"{judge}_auc_{what}{err}"
    for judge in ("judge", "ll_judge")
    for what in ("dctr", "gan", "null")
    for err in ("", "_err")
]
#: per judge: does it see the unweighted generator (its unweighted control above 0.5 by more
#: than twice its error)? A judge that does not cannot vouch for the weights either.
SEES_COLUMNS = ["judge_sees_generator", "ll_judge_sees_generator"]
#: which showers every table was computed on
EVALUATION_COLUMNS = ["n_evaluation_truth", "n_evaluation_generated", "evaluation_digest"]
CLASSIFIER_COLUMNS = [
    "classifier",
    "n_fit_truth",
    "n_fit_generated",
    *JUDGE_COLUMNS,
    *SEES_COLUMNS,
    "neff_fraction",
    "n_capped",
    "median_weight",
    "max_weight",
    "n_extreme",
    *EVALUATION_COLUMNS,
]
ENERGY_BIN_COLUMNS = [
    "classifier",
    "e_low_gev",
    "e_high_gev",
    "n_truth",
    "n_generated",
    "median_s2_gan",
    "median_s2_dctr",
    "median_s2_ratio",
    "s2_floor",
    "fraction_lowered",
    "median_r_dctr",
    "neff_fraction",
    *EVALUATION_COLUMNS,
]
METRIC_COLUMNS = [
    "sample",
    "fpd_x1e3",
    "fpd_error_x1e3",
    "kpd_x1e3",
    "kpd_error_x1e3",
    *EVALUATION_COLUMNS,
]


def observable_edges(truth: np.ndarray, n_edges: int) -> list[np.ndarray]:
    """Histogram edges per observable: ``n_edges`` between the truth's 0.1 and 99.9 % quantiles
    (the paper: 20 edges over fixed ranges fitted to its Geant4 showers)."""
    lo, hi = np.quantile(truth, [0.001, 0.999], axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    return [np.linspace(a, b, int(n_edges)) for a, b in zip(lo, hi, strict=True)]


def summary_columns(classifiers) -> list[str]:
    """The columns of dctr_summary.csv for the classifiers that ran (no empty columns), and
    which evaluation showers every row was computed on."""
    per_classifier = [f"{c}_{n}" for n in classifiers for c in PER_CLASSIFIER_COLUMNS]
    return SUMMARY_COLUMNS + per_classifier + EVALUATION_COLUMNS


def evaluation_observables(truth_file, gen_file, detector):
    """The observables of the evaluation showers of the truth and the generator — the feature
    set's and the derived ones no reweighter targets (:func:`derived_observables`) — with their
    names, groups, whether each is targeted, the incident energies, and the
    :data:`EVALUATION_COLUMNS` of these showers."""
    from ..core.events import digest
    from .calo_classifiers import events_of

    geometry = detector_from_config(detector)
    features = feature_set(geometry)
    (ft, et), (fg, eg) = (
        read_features(truth_file, "evaluation"),
        read_features(gen_file, "evaluation"),
    )
    names, groups = list(features.names), dict(features.groups)
    targeted = {n: groups[n] in TARGETED_GROUPS for n in names}
    extra_t, extra_names = derived_observables(ft, names, geometry)
    extra_g, _ = derived_observables(fg, names, geometry)
    ft, fg = np.concatenate([ft, extra_t], 1), np.concatenate([fg, extra_g], 1)
    for n in extra_names:
        groups[n], targeted[n] = "layer_ratio", False
    names += extra_names
    (st, it), (sg, ig) = events_of(truth_file, "evaluation"), events_of(gen_file, "evaluation")
    provenance_ = {
        "n_evaluation_truth": len(ft),
        "n_evaluation_generated": len(fg),
        "evaluation_digest": f"{digest(st, it)}:{digest(sg, ig)}",
    }
    return (ft, et), (fg, eg), names, groups, targeted, provenance_


#: The feature groups that are (monotone maps of) classifier inputs: the ILD study's 33 HL inputs;
#: every CaloChallenge feature (cls-high holds each, scaled or as its logarithm).
TARGETED_GROUPS = ("hl", "energy", "centre", "width", "sparsity")


def derived_observables(obs: np.ndarray, names: list[str], geometry) -> tuple[np.ndarray, list]:
    """Observables no reweighter targets, derived from the features: in a CaloChallenge geometry
    log10 of the ratio of neighbouring layers' energies (the showers' longitudinal development,
    which cls-high sees only layer by layer). The ILD study's own untargeted observables (layer
    differences, second moments) are in its feature set already."""
    if geometry.kind == "cartesian":
        return np.empty((len(obs), 0)), []
    ids = geometry.layer_ids
    cols = [names.index(f"e_layer_{i}") for i in ids]
    e = np.asarray(obs, dtype=float)[:, cols]
    # 1 keV keeps an empty layer finite; dataset 1's threshold is 1 MeV
    ratios = np.log10((e[:, 1:] + 1e-3) / (e[:, :-1] + 1e-3))
    return ratios, [f"log10_e_layer_{b}_over_{a}" for a, b in zip(ids[:-1], ids[1:], strict=True)]


def calo_summary(
    truth_file,
    gen_file,
    weights: Mapping[str, str],
    judges: Mapping[str, Mapping[str, str]],
    out_csv,
    out_classifiers_csv,
    *,
    calo: str,
    detector,
    n_edges: int,
    bootstrap_replicas: int,
    seed: int,
) -> list[dict]:
    """S² (its error and floor), S² ratio, r and eq. 9 per observable of the evaluation showers,
    unweighted and weighted by each classifier's stored reweighter; one row per classifier with
    its judges' AUCs and the weight diagnostics. ``truth_file``, ``gen_file``: the features files
    that hold the evaluation showers of the truth and the generator; ``weights[name]``: weights
    file of classifier ``name`` ("hl", "ll"); ``judges[name][judge]``: the file of the judge
    ``judge`` ("hl": the boosted trees on the HL inputs, "ll": a low-level network) of its
    weights."""
    from ..dctr.metrics import (
        dilution,
        events_needed_ratio,
        expected_separation_power_of_equal_samples,
        separation_power,
        separation_power_ratio_errors,
    )
    from ..dctr.weights import effective_sample_size

    (ft, _), (fg, _), names, groups, targeted, evaluated = evaluation_observables(
        truth_file, gen_file, detector
    )
    edges = observable_edges(ft, n_edges)
    boot = {"n_replicas": int(bootstrap_replicas)}
    r_gan = dilution(ft, fg, rng=seeding.rng(seed, "calorimeter", calo, "r", "gan"), **boot)
    floor_gan = expected_separation_power_of_equal_samples(len(ft), len(fg), int(n_edges) - 1)
    per_classifier = {}
    for name, path in weights.items():
        w = read_dataset(path, "evaluation/weights")
        if len(w) != len(fg):
            raise ValueError(f"{path}: {len(w)} evaluation weights for {len(fg)} showers")
        rng = seeding.rng(seed, "calorimeter", calo, "r", name)
        r = dilution(ft, fg, w_gen=w, rng=rng, **boot)
        errors = separation_power_ratio_errors(
            ft, fg, edges, w, rng=seeding.rng(seed, "calorimeter", calo, "s2", name), **boot
        )
        n_eff = effective_sample_size(w)
        floor = expected_separation_power_of_equal_samples(len(ft), n_eff, int(n_edges) - 1)
        per_classifier[name] = (w, r, errors, floor, n_eff / len(w))
    rows = []
    for j, obs in enumerate(names):
        s2_gan = separation_power(ft[:, j], fg[:, j], edges[j])
        row = {
            "observable": obs,
            "group": groups[obs],
            "targeted": targeted[obs],
            "s2_gan": s2_gan,
            "s2_floor_gan": floor_gan,
            "r_gan": float(r_gan[j]),
        }
        for name, (w, r, errors, floor, neff) in per_classifier.items():
            s2 = separation_power(ft[:, j], fg[:, j], edges[j], w2=w)
            row |= {
                f"s2_dctr_{name}": s2,
                f"s2_ratio_{name}": s2 / s2_gan if s2_gan > 0 else float("nan"),
                f"s2_ratio_err_{name}": float(errors[j]),
                f"s2_floor_{name}": floor,
                f"r_dctr_{name}": float(r[j]),
                f"neff_fraction_{name}": neff,
                # eq. 9: generated showers needed per truth shower for this observable's mean
                f"eq9_ratio_{name}": events_needed_ratio(ft[:, j], fg[:, j], w),
            }
        rows.append(row | evaluated)
    write_csv(out_csv, rows, summary_columns(per_classifier))
    classifier_rows = []
    for name in per_classifier:
        attrs = read_attrs(weights[name])
        d = attrs["evaluation_diagnostics"]
        row = {
            "classifier": name,
            "n_fit_truth": len(read_dataset(weights[name], "fit/truth_index")),
            "n_fit_generated": len(read_dataset(weights[name], "fit/generated_index")),
        }
        for judge, prefix in (("hl", "judge"), ("ll", "ll_judge")):
            jattrs = read_attrs(judges[name][judge]) if judge in judges.get(name, {}) else {}
            for what, key in (("dctr", "auc"), ("gan", "auc_unweighted"), ("null", "auc_null")):
                row[f"{prefix}_auc_{what}"] = float(jattrs.get(key, float("nan")))
                row[f"{prefix}_auc_{what}_err"] = float(jattrs.get(f"{key}_err", float("nan")))
            unweighted, err = row[f"{prefix}_auc_gan"], row[f"{prefix}_auc_gan_err"]
            # empty where the judge did not run
            row[f"{prefix}_sees_generator"] = bool(unweighted - 0.5 > 2 * err) if jattrs else ""
        row |= {
            "neff_fraction": float(d["n_eff_fraction"]),
            "n_capped": int(d["n_capped"]),
            "median_weight": float(d["median"]),
            "max_weight": float(d["max"]),
            "n_extreme": int(d["n_extreme"]),
            **evaluated,
        }
        classifier_rows.append(row)
    write_csv(out_classifiers_csv, classifier_rows, CLASSIFIER_COLUMNS)
    return rows


#: The observables drawn in Figs. 3–7 of the ILD study (the paper shows representative layers).
ILD_FIGURES = {
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
ILD_TITLES = {
    "fig3": "Hit cells, visible energy, longitudinal centroid",
    "fig4": "Energy in representative layers (MeV)",
    "fig5": "Layer energy differences (MeV)",
    "fig6": "Energy-weighted second moment in x per layer (not seen by the HL classifier)",
}
CHALLENGE_TITLES = {
    "fig3": "Total and layer energies (MeV)",
    "fig4": "Energy-weighted centres per layer (mm)",
    "fig5": "Energy-weighted widths per layer (mm)",
    "fig6": "Sparsity per layer (fraction of empty voxels)",
}


def figure_observables(geometry) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(figure → observables, figure → title) of Figs. 3–7 for ``geometry``: the paper's choice
    for the ILD-like ECAL; for a CaloChallenge geometry up to six layers spread over its depth
    (every layer of dataset 1), with η centres and widths where a layer has α bins, r otherwise."""
    if geometry.kind == "cartesian":
        return ILD_FIGURES, ILD_TITLES
    layers = geometry.layers
    pick = np.unique(np.linspace(0, len(layers) - 1, min(6, len(layers))).round().astype(int))
    chosen = [layers[j] for j in pick]

    def coordinate(lay):
        return "eta" if lay.n_alpha > 1 else "r"

    figs = {
        "fig3": ["e_tot"] + [f"e_layer_{lay.id}" for lay in chosen[:5]],
        "fig4": [f"{coordinate(lay)}_centre_{lay.id}" for lay in chosen],
        "fig5": [f"{coordinate(lay)}_width_{lay.id}" for lay in chosen],
        "fig6": [f"sparsity_{lay.id}" for lay in chosen],
        "fig7": ["e_tot"]
        + [f"e_layer_{lay.id}" for lay in chosen]
        + [f"r_width_{lay.id}" for lay in chosen[:2]],
    }
    return figs, CHALLENGE_TITLES


def calo_figures(
    truth_file,
    gen_file,
    weights: Mapping[str, str],
    summary_csv,
    *,
    detector,
    n_edges: int,
    outputs: Mapping[str, str],
    gen_label: str = "Generator",
) -> None:
    """Figs. 2–8 of the DCTR paper, or their analogues in a CaloChallenge geometry
    (``outputs[figN]`` → path), of the evaluation showers."""
    import pandas as pd

    from ..core.plotting import save
    from ..dctr import figures

    geometry = detector_from_config(detector)
    features = feature_set(geometry)
    (ft, _), (fg, _) = (
        read_features(truth_file, "evaluation"),
        read_features(gen_file, "evaluation"),
    )
    w = {name: read_dataset(path, "evaluation/weights") for name, path in weights.items()}
    summary = pd.read_csv(summary_csv)
    rows = summary.set_index("observable")
    edges = observable_edges(ft, n_edges)
    save(figures.weights_figure(w), [outputs["fig2"]])
    chosen, titles = figure_observables(geometry)
    for fig, names in chosen.items():
        cols = [features.names.index(n) for n in names]
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
                title=titles[fig],
                gen_label=gen_label,
            )
        save(made, [outputs[fig]])
    save(
        figures.summary_figure(summary, list(weights), features.group_labels, gen_label),
        [outputs["fig8"]],
    )


def energy_bins(
    truth_file,
    gen_file,
    weights: Mapping[str, str],
    out_csv,
    *,
    calo: str,
    detector,
    incident_energy,
    n_edges: int,
    bootstrap_replicas: int,
    seed: int,
    n_log_bins: int = 5,
) -> list[dict]:
    """S² and r summaries over the observables (those of :func:`evaluation_observables`) of the
    evaluation showers, per bin of incident energy, per classifier."""
    from ..dctr.metrics import (
        dilution,
        expected_separation_power_of_equal_samples,
        separation_power,
    )
    from ..dctr.weights import effective_sample_size

    geometry = detector_from_config(detector)
    spectrum = spectrum_from_config(incident_energy, geometry)
    bins = spectrum.bins(n_log_bins)
    (ft, et), (fg, eg), _, _, _, evaluated = evaluation_observables(truth_file, gen_file, detector)
    rows = []
    for name, path in weights.items():
        w = read_dataset(path, "evaluation/weights")
        for b, (lo, hi) in enumerate(zip(bins[:-1], bins[1:], strict=True)):
            it, ig = (et >= lo) & (et < hi), (eg >= lo) & (eg < hi)
            if it.sum() < 10 or ig.sum() < 10:
                continue
            t, g, wb = ft[it], fg[ig], w[ig]
            edges = observable_edges(t, n_edges)
            s2g = np.array([separation_power(t[:, j], g[:, j], e) for j, e in enumerate(edges)])
            s2w = np.array(
                [separation_power(t[:, j], g[:, j], e, w2=wb) for j, e in enumerate(edges)]
            )
            rng = seeding.rng(seed, "calorimeter", calo, "energy_bin", name, b)
            r = dilution(t, g, w_gen=wb, n_replicas=int(bootstrap_replicas), rng=rng)
            live = s2g > 0
            rows.append(
                {
                    "classifier": name,
                    "e_low_gev": float(lo),
                    "e_high_gev": float(hi),
                    "n_truth": int(it.sum()),
                    "n_generated": int(ig.sum()),
                    "median_s2_gan": float(np.median(s2g)),
                    "median_s2_dctr": float(np.median(s2w)),
                    "median_s2_ratio": float(np.median(s2w[live] / s2g[live]))
                    if live.any()
                    else float("nan"),
                    # S² of two samples of the same density (the weighted one at its N_eff)
                    "s2_floor": expected_separation_power_of_equal_samples(
                        len(t), effective_sample_size(wb), int(n_edges) - 1
                    ),
                    "fraction_lowered": float(np.mean(s2w[live] < s2g[live]))
                    if live.any()
                    else float("nan"),
                    "median_r_dctr": float(np.nanmedian(r)),
                    "neff_fraction": effective_sample_size(wb) / len(wb),
                    **evaluated,
                }
            )
    write_csv(out_csv, rows, ENERGY_BIN_COLUMNS)
    return rows


def challenge_metrics(
    truth_file,
    gen_file,
    weights: Mapping[str, str],
    out_csv,
    *,
    calo: str,
    detector,
    fpd: Mapping,
    kpd: Mapping,
    seed: int,
) -> list[dict]:
    """FPD and KPD (× 10³, as the challenge quotes them) of the HL vectors of the evaluation
    showers: the generator's and each weighted generator's against the truth. Sample sizes are
    capped by the samples."""
    from ..core.events import digest
    from ..dctr import distances
    from .calo_classifiers import events_of

    x_t = hl_inputs(truth_file, detector, "evaluation")
    x_g = hl_inputs(gen_file, detector, "evaluation")
    (st, it), (sg, ig) = events_of(truth_file, "evaluation"), events_of(gen_file, "evaluation")
    evaluated = {
        "n_evaluation_truth": len(x_t),
        "n_evaluation_generated": len(x_g),
        "evaluation_digest": f"{digest(st, it)}:{digest(sg, ig)}",
    }
    n = min(len(x_t), len(x_g))
    fpd_kw = {
        "min_samples": min(int(fpd["min_samples"]), n),
        "max_samples": min(int(fpd["max_samples"]), n),
        "n_batches": int(fpd["n_batches"]),
        "n_points": int(fpd["n_points"]),
    }
    if fpd_kw["min_samples"] >= fpd_kw["max_samples"]:
        fpd_kw["min_samples"] = max(2, fpd_kw["max_samples"] // 2)
    kpd_kw = {"n_batches": int(kpd["n_batches"]), "batch_size": min(int(kpd["batch_size"]), n)}
    rows = []
    for sample, path in {"generated": None, **weights}.items():
        w = None if path is None else read_dataset(path, "evaluation/weights")
        label = sample if path is None else f"dctr_{sample}"
        f, fe = distances.fpd(
            x_t, x_g, w, rng=seeding.rng(seed, "calorimeter", calo, "fpd", label), **fpd_kw
        )
        k, ke = distances.kpd(
            x_t, x_g, w, rng=seeding.rng(seed, "calorimeter", calo, "kpd", label), **kpd_kw
        )
        rows.append(
            {
                "sample": label,
                "fpd_x1e3": 1e3 * f,
                "fpd_error_x1e3": 1e3 * fe,
                "kpd_x1e3": 1e3 * k,
                "kpd_error_x1e3": 1e3 * ke,
                **evaluated,
            }
        )
    write_csv(out_csv, rows, METRIC_COLUMNS)
    return rows

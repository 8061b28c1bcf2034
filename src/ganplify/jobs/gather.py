"""rules/gather.smk: every approach's per-run files gathered into errors and tables."""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .. import __version__
from ..amplification.cells import all_fractions, n_cells
from ..amplification.tables import (
    AMPLIFICATION_VS_NTRAIN_COLUMNS,
    EQUIVALENCE_COLUMNS,
    MARGINAL_COLUMNS,
    amplification_vs_ntrain_rows,
    equivalence_rows,
    marginal_rows,
    marginal_run_errors,
    reference_mse,
    run_errors,
    stack_runs,
)
from ..core import seeding
from ..core.approaches import APPROACHES
from ..core.io import provenance, read_dataset, write_csv, write_h5
from .common import marginal_key, read_fractions, truth_from_config

log = logging.getLogger("ganplify")


def gather_study(
    run_files: Mapping[str, Sequence[str]],
    *,
    study: str,
    truth: Mapping,
    n_train: int,
    quantiles: Sequence[int],
    reference_sizes: Sequence[int],
    statistics: Mapping,
    seed: int,
    out_h5,
    out_csv,
    out_marginal_csv=None,
) -> list[dict]:
    """Gather every approach's per-run fractions into quantile errors and the equivalence table.

    ``run_files[approach]`` lists the per-run files of that approach in run order. Runs whose
    fractions are not finite (failed fits) are excluded from the statistics and counted in the
    log. Generators are scored by their largest generated sample. The reference curves of truth
    samples (Fig. 2) are computed here too.
    """
    density = truth_from_config(truth)
    qs = [int(q) for q in quantiles]
    ks = [n_cells(density, q) for q in qs]
    datasets: dict[str, np.ndarray] = {"K": np.array(ks)}
    rows: list[dict] = []
    marg_rows: list[dict] = []
    for approach, files in run_files.items():
        mse, ok = run_errors({k: stack_runs(read_fractions(f, k) for f in files) for k in ks})
        if not ok.all():
            log.warning(
                "%s/%s: %d of %d runs failed and are excluded",
                study,
                approach,
                int((~ok).sum()),
                len(files),
            )
        marginal = marginal_run_errors(
            {q: stack_runs(read_dataset(f, marginal_key(q)) for f in files) for q in qs}
        )
        datasets[f"{approach}/mse"] = mse
        datasets[f"{approach}/ok"] = ok
        datasets[f"{approach}/marginal_mse"] = marginal
        final, final_marginal = mse[ok], marginal[ok]
        n_eff = float(n_train) if approach == "sample" else float("nan")
        if APPROACHES[approach].generator:
            sizes = read_dataset(files[0], "n_generated")
            datasets[f"{approach}/n_generated"] = sizes
            final, final_marginal = final[:, -1], final_marginal[:, -1]
            n_eff = float(sizes[-1])
        if APPROACHES[approach].reweights:
            per_run = np.stack([read_dataset(f, "n_eff") for f in files])  # (runs, n_generated)
            datasets[f"{approach}/n_eff"] = per_run
            n_eff = float(per_run[ok, -1].mean())
        marg_rows += marginal_rows(approach, final_marginal, qs)
        rows += equivalence_rows(
            approach,
            n_train,
            {k: final[:, j] for j, k in enumerate(ks)},
            rng_for=lambda k, a=approach: seeding.rng(seed, study, "bootstrap", a, k),
            n_resamples=int(statistics["bootstrap_resamples"]),
            confidence_level=float(statistics["confidence_level"]),
            n_eff=n_eff,
        )
    sizes = [int(n) for n in reference_sizes]
    datasets["reference/sizes"] = np.array(sizes)
    datasets["reference/mse"] = reference_mse(
        density.sample,
        lambda x: [f for _, f in sorted(all_fractions(x, density, qs).items())],
        sizes,
        int(statistics["reference_repeats"]),
        rng_for=lambda n: seeding.rng(seed, study, "reference", n),
    )
    write_h5(
        out_h5,
        datasets,
        provenance(
            seed=seed,
            study=study,
            truth=dict(truth),
            n_train=int(n_train),
            quantiles=qs,
            approaches=list(run_files),
        ),
    )
    write_csv(out_csv, rows, EQUIVALENCE_COLUMNS)
    if out_marginal_csv is not None:
        write_csv(out_marginal_csv, marg_rows, MARGINAL_COLUMNS)
    for r in rows:
        log.info("%s", json.dumps(r))
    return rows


def amplification_vs_ntrain(equivalence_csvs: Sequence, out_csv) -> list[dict]:
    """Gather the equivalence tables of a study's training sizes into one table."""
    import pandas as pd

    rows = amplification_vs_ntrain_rows(
        [pd.read_csv(f).to_dict("records") for f in equivalence_csvs]
    )
    write_csv(out_csv, rows, AMPLIFICATION_VS_NTRAIN_COLUMNS)
    return rows


def export_config(config: Mapping, out) -> None:
    """Write the validated, merged configuration and run metadata (for the report)."""
    import yaml

    meta = {
        "ganplify_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        import snakemake

        meta["snakemake"] = snakemake.__version__
    except ImportError:  # pragma: no cover - the workflow always has it
        pass
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        fh.write("# Configuration used for this run (validated, after merging --configfile).\n")
        yaml.safe_dump({"config": dict(config), "run_metadata": meta}, fh, sort_keys=False)

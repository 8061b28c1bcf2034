"""rule calo_summary: S², S² ratio and r per observable and per incident-energy bin; the judges'
AUCs and the weights per classifier — of the evaluation showers."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_summary import calo_summary, energy_bins

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    weights = {name: sm.input[f"weights_{name}"] for name in sm.params.classifiers}
    common = {
        "calo": sm.wildcards.calo,
        "detector": sm.params.detector,
        "n_edges": sm.params.n_edges,
        "bootstrap_replicas": sm.params.bootstrap_replicas,
        "seed": sm.params.seed,
    }
    calo_summary(
        sm.input.truth,
        sm.input.generated,
        weights,
        {
            name: {j: sm.input[f"{p}_{name}"] for j, p in sm.params.judge_files.items()}
            for name in sm.params.classifiers
        },
        sm.output.summary,
        sm.output.classifiers,
        **common,
    )
    energy_bins(
        sm.input.truth,
        sm.input.generated,
        weights,
        sm.output.energy_bins,
        incident_energy=sm.params.incident_energy,
        **common,
    )

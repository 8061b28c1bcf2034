"""rule calo_summary: S², S² ratio and r per observable; AUCs and weights per classifier."""

from ganplify.core.runtime import job
from ganplify.jobs.calorimeter import calo_summary

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    calo_summary(
        sm.input.truth,
        sm.input.generated,
        {name: sm.input[f"weights_{name}"] for name in sm.params.classifiers},
        {name: sm.input[f"closure_{name}"] for name in sm.params.classifiers},
        sm.output.summary,
        sm.output.classifiers,
        n_edges=sm.params.n_edges,
        bootstrap_replicas=sm.params.bootstrap_replicas,
        seed=sm.params.seed,
    )

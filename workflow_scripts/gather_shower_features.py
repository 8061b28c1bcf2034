"""rule gather_shower_features: a sample's observables in one file, and which of its showers are
evaluation showers."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_showers import gather_features

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    gather_features(
        list(sm.input),
        sm.output[0],
        sample=sm.wildcards.sample,
        evaluation=sm.params.evaluation,
        seed=sm.params.seed,
        identity=("calorimeter", sm.wildcards.calo, sm.wildcards.sample, "evaluation"),
    )

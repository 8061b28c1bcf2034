"""rule gather_shower_features: every segment's observables of a sample in one file."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_showers import gather_features

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    gather_features(list(sm.input), sm.output[0])

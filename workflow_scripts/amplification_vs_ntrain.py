"""rule amplification_vs_ntrain: a study's equivalence tables at every training size, gathered."""

from ganplify.core.runtime import job
from ganplify.jobs.gather import amplification_vs_ntrain

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    amplification_vs_ntrain(list(sm.input), sm.output[0])

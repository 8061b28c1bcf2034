"""rule fit_summary: convergence and parameter pulls of a study's fits."""

from ganplify.core.runtime import job
from ganplify.jobs.fit import summarize_fits

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    summarize_fits(list(sm.input), sm.output[0])

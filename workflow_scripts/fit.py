"""rule fit: low-parameter unbinned ML fit of training sample {i} of {study}."""

from ganplify.core.runtime import job
from ganplify.jobs.fit import fit_sample

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    fit_sample(sm.input[0], sm.output[0], truth=sm.params.truth, quantiles=sm.params.quantiles)

"""rule null_toy_generator: a null test's "generator" — events drawn from the toy's own truth."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import null_generator

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    null_generator(
        sm.output[0],
        toy=sm.wildcards.toy,
        n_generated=sm.params.n_generated,
        seed=sm.params.seed,
    )

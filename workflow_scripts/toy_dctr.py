"""rule toy_dctr: a toy's stored reweighter, the fitting events' and the evaluation events'
weights."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_dctr

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    toy_dctr(
        sm.input.truth,
        sm.input.gan,
        sm.output.weights,
        sm.output.model,
        toy=sm.wildcards.toy,
        reweighter=sm.params.reweighter,
        seed=sm.params.seed,
        threads=sm.threads,
    )

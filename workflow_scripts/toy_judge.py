"""rule toy_judge: the judge of a toy's evaluation events' weights on the evaluation truth, with
its controls (unweighted; truth against truth carrying the permuted weights)."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_judge

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    toy_judge(
        sm.input.truth,
        sm.input.gan,
        sm.input.weights,
        sm.output[0],
        toy=sm.wildcards.toy,
        judge=sm.params.judge,
        seed=sm.params.seed,
        threads=sm.threads,
    )

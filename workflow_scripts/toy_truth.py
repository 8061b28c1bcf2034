"""rule toy_truth: the GAN's training sample and an independent truth sample of a toy."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_truth

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    toy_truth(
        sm.output[0],
        toy=sm.wildcards.toy,
        n_train=sm.params.n_train,
        n_truth=sm.params.n_truth,
        seed=sm.params.seed,
    )

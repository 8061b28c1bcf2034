"""rule train_toy_gan: the DCTR paper's toy GAN, trained on a toy's truth sample."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import train_toy_gan

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    train_toy_gan(
        sm.input[0],
        sm.output[0],
        toy=sm.wildcards.toy,
        gan=sm.params.gan,
        n_generated=sm.params.n_generated,
        seed=sm.params.seed,
        threads=sm.threads,
    )

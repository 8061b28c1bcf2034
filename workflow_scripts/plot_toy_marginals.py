"""rule plot_toy_marginals: a toy's observables, GAN and DCTR-weighted GAN against truth."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import marginals_figure

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    marginals_figure(
        sm.input.truth,
        sm.input.gan,
        sm.input.weights,
        sm.input.summary,
        toy=sm.wildcards.toy,
        bins=sm.params.bins,
        outputs=list(sm.output),
    )

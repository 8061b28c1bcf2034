"""rule plot_amplification_vs_ntrain: amplification against the training size, per K, approach."""

from ganplify.core.runtime import job
from ganplify.jobs.plots import amplification_vs_ntrain

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    amplification_vs_ntrain(
        sm.input[0], truth=sm.params.truth, quantiles=sm.params.quantiles, outputs=list(sm.output)
    )

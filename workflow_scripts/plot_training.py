"""rule plot_training: discriminator and generator losses of every training run."""

from ganplify.core.runtime import job
from ganplify.jobs.plots import training

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    training(list(sm.input), title=sm.params.title, outputs=list(sm.output))

"""rule plot_training: discriminator and generator losses of every training run."""

from ganplify.figures import training
from ganplify.jobs import setup_logging

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
training(list(sm.input), title=sm.params.title, outputs=list(sm.output))

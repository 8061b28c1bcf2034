"""rule plot_quantile_errors: Fig. 2 analogue (quantile MSE against the number of events)."""

from ganplify.figures import quantile_errors
from ganplify.jobs import setup_logging

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
quantile_errors(sm.input[0], study_cfg=sm.params.study_cfg, outputs=list(sm.output))

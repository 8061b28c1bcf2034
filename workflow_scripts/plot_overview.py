"""rule plot_overview: Fig. 1 analogue (truth, one training sample, its fit, quantile edges)."""

from ganplify.figures import overview
from ganplify.jobs import setup_logging

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
overview(
    sample_file=sm.input.sample,
    fit_file=sm.input.get("fit"),
    study_cfg=sm.params.study_cfg,
    outputs=list(sm.output),
)

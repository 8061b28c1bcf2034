"""rule plot_overview: Fig. 1 analogue (truth, a training sample, its fit and GANs, quantiles)."""

from ganplify.figures import overview
from ganplify.jobs import setup_logging

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
overview(
    sample_file=sm.input.sample,
    fit_file=sm.input.get("fit"),
    generator_files={a: sm.input[a] for a in ("gan", "ensemble") if a in sm.input.keys()},
    study_cfg=sm.params.study_cfg,
    outputs=[sm.output.png, sm.output.pdf],
)

"""rule plot_overview: Fig. 1 analogue (truth, a training sample, its fit and GANs, quantiles)."""

from ganplify.core.runtime import job
from ganplify.jobs.plots import overview

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    overview(
        sample_file=sm.input.sample,
        fit_file=sm.input.get("fit"),
        generator_files={a: sm.input[a] for a in sm.params.generators},
        truth=sm.params.truth,
        outputs=[sm.output.png, sm.output.pdf],
    )

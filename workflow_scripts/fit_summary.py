"""rule fit_summary: convergence and parameter pulls of a study's fits."""

from ganplify.jobs import setup_logging, summarize_fits

setup_logging(snakemake.log[0])  # noqa: F821 - injected by Snakemake
summarize_fits(list(snakemake.input), snakemake.output[0])  # noqa: F821

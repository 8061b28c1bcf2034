"""rule export_config: the validated configuration and run metadata, for the report."""

from ganplify.jobs import export_config, setup_logging

setup_logging(snakemake.log[0])  # noqa: F821 - injected by Snakemake
export_config(snakemake.config, snakemake.output[0])  # noqa: F821

"""rule export_config: the validated configuration and run metadata, for the report."""

from ganplify.core.runtime import job
from ganplify.jobs.gather import export_config

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    export_config(sm.params.config, sm.output[0])

"""rule calo_amplification: every amplification run of the learned generators, one table."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_amplification import gather_amplification

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    gather_amplification(list(sm.input), sm.params.studies, sm.output.table, sm.output.figure)

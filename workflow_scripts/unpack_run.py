"""rule unpack_run: run {i}'s file of {approach} in {study}, cut out of its training block."""

from ganplify.core.runtime import job
from ganplify.jobs.gan import unpack_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    unpack_run(sm.input[0], sm.output[0], index=int(sm.wildcards.i))

"""rule saturation: where each generator's quantile-error curve stops improving."""

from ganplify.core.runtime import job
from ganplify.jobs.gan import saturation_table

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    saturation_table(
        sm.input[0], sm.output[0], n_train=sm.params.n_train, fraction=sm.params.fraction
    )

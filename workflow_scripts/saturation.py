"""rule saturation: where each generator's quantile-error curve stops improving."""

from ganplify.jobs import saturation_table, setup_logging

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
saturation_table(sm.input[0], sm.output[0], n_train=sm.params.n_train, fraction=sm.params.fraction)

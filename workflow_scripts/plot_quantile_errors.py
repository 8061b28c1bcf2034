"""rule plot_quantile_errors: Fig. 2 analogue (quantile MSE against the number of events)."""

from ganplify.core.runtime import job
from ganplify.jobs.plots import quantile_errors

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    quantile_errors(
        sm.input[0],
        truth=sm.params.truth,
        n_train=sm.params.n_train,
        quantiles=sm.params.quantiles,
        outputs=list(sm.output),
    )

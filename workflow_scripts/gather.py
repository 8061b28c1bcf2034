"""rule gather: per-run files of every approach -> quantile errors and the equivalence table."""

from ganplify.core.runtime import job
from ganplify.jobs.gather import gather_study

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    gather_study(
        {approach: list(sm.input[approach]) for approach in sm.params.approaches},
        study=sm.wildcards.study,
        truth=sm.params.truth,
        n_train=sm.params.n_train,
        quantiles=sm.params.quantiles,
        reference_sizes=sm.params.reference_sizes,
        statistics=sm.params.statistics,
        seed=sm.params.seed,
        out_h5=sm.output.h5,
        out_csv=sm.output.csv,
        out_marginal_csv=sm.output.marginal,
    )

"""rule gather: per-run files of every approach -> quantile errors and the equivalence table."""

from ganplify.jobs import gather_study, setup_logging

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
gather_study(
    {approach: list(sm.input[approach]) for approach in sm.params.approaches},
    study=sm.wildcards.study,
    study_cfg=sm.params.study_cfg,
    stats_cfg=sm.params.stats_cfg,
    seed=sm.params.seed,
    out_h5=sm.output.h5,
    out_csv=sm.output.csv,
    out_marginal_csv=sm.output.marginal,
)

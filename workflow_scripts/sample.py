"""rule sample: draw training sample {i} of {study}."""

from ganplify.jobs import make_sample, setup_logging

setup_logging(snakemake.log[0])  # noqa: F821 - injected by Snakemake
make_sample(
    snakemake.output[0],  # noqa: F821
    study=snakemake.wildcards.study,  # noqa: F821
    study_cfg=snakemake.params.study_cfg,  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
    index=int(snakemake.wildcards.i),  # noqa: F821
)

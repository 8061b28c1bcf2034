"""rule fit: 5-parameter unbinned ML fit of training sample {i} of {study}."""

from ganplify.jobs import fit_sample, setup_logging

setup_logging(snakemake.log[0])  # noqa: F821 - injected by Snakemake
fit_sample(snakemake.input[0], snakemake.output[0], study_cfg=snakemake.params.study_cfg)  # noqa: F821

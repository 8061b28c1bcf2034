"""rule sample: draw training sample {i} of {study}."""

from ganplify.core.runtime import job
from ganplify.jobs.sample import make_sample

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    make_sample(
        sm.output[0],
        study=sm.wildcards.study,
        index=int(sm.wildcards.i),
        truth=sm.params.truth,
        n_train=sm.params.n_train,
        quantiles=sm.params.quantiles,
        seed=sm.params.seed,
    )

"""rule calo_judge: the boosted trees of the evaluation truth against the evaluation showers
weighted by classifier {classifier}, with the controls (unweighted; truth against truth carrying
the weights)."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import judge

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    judge(
        sm.input.truth,
        sm.input.generated,
        sm.input.weights,
        sm.output[0],
        calo=sm.wildcards.calo,
        detector=sm.params.detector,
        judged=sm.wildcards.classifier,
        judge=sm.params.judge,
        seed=sm.params.seed,
        threads=sm.threads,
    )

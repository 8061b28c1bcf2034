"""rule calo_judge: the boosted trees of an independent truth sample against the generated
showers, unweighted and weighted by classifier {classifier}: the closure that cannot flatter."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import judge

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    judge(
        sm.input.judge,
        sm.input.generated,
        sm.input.weights,
        sm.output[0],
        calo=sm.wildcards.calo,
        detector=sm.params.detector,
        judged=sm.wildcards.classifier,
        classifier=sm.params.classifier,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        seed=sm.params.seed,
        threads=sm.threads,
    )

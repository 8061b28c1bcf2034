"""rule toy_judge: the boosted trees of an independent truth sample against the GAN events,
unweighted and DCTR-weighted."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_judge

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    toy_judge(
        sm.input.truth,
        sm.input.gan,
        sm.input.weights,
        sm.output[0],
        toy=sm.wildcards.toy,
        classifier=sm.params.classifier,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        seed=sm.params.seed,
        threads=sm.threads,
    )

"""rule calo_closure: a fresh HL-feature classifier of truth against the showers weighted by
classifier {classifier}: AUC near 0.5 when the weights are right."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import closure

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    closure(
        sm.input.truth,
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

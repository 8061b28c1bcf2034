"""rule ll_closure: a fresh low-level network (3D CNN or cls-low) of truth against the showers
weighted by classifier {classifier}: AUC near 0.5 when the weights are right."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import ll_closure
from ganplify.jobs.calo_showers import Segment

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    ll_closure(
        sm.input.weights,
        sm.output[0],
        calo=sm.wildcards.calo,
        judged=sm.wildcards.classifier,
        truth_segments=[Segment(**s) for s in sm.params.truth_segments],
        gen_segments=[Segment(**s) for s in sm.params.gen_segments],
        network=sm.params.network,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        validation_fraction=sm.params.validation_fraction,
        detector=sm.params.detector,
        seed=sm.params.seed,
        threads=min(sm.threads, sm.config["dctr"]["threads"]),
        workers=sm.config["calorimeter"]["ll"]["workers"],
    )

"""rule hl_dctr: the cross-fitted high-level classifier and the generated showers' weights."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import hl_dctr

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    hl_dctr(
        sm.input.truth,
        sm.input.generated,
        sm.output[0],
        calo=sm.wildcards.calo,
        detector=sm.params.detector,
        classifier=sm.params.classifier,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        weights=sm.params.weights,
        seed=sm.params.seed,
        threads=sm.threads,
    )

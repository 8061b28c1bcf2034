"""rule hl_dctr: the stored high-level reweighter, the fitting and the evaluation showers'
weights."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import hl_dctr

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    hl_dctr(
        sm.input.truth,
        sm.input.generated,
        sm.input.evaluation,
        sm.output.weights,
        sm.output.model,
        calo=sm.wildcards.calo,
        detector=sm.params.detector,
        reweighter=sm.params.reweighter,
        seed=sm.params.seed,
        threads=sm.threads,
    )

"""rule calo_metrics: the CaloChallenge's FPD and KPD of the generator, before and after DCTR."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_summary import challenge_metrics

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    challenge_metrics(
        sm.input.truth,
        sm.input.generated,
        {name: sm.input[f"weights_{name}"] for name in sm.params.classifiers},
        sm.output[0],
        calo=sm.wildcards.calo,
        detector=sm.params.detector,
        fpd=sm.params.fpd,
        kpd=sm.params.kpd,
        seed=sm.params.seed,
    )

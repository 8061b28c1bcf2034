"""rule calo_reference: the observables of a large fresh truth sample of study {calo}."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_amplification import reference_observables

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    reference_observables(
        sm.output[0],
        calo=sm.wildcards.calo,
        n=sm.params.n,
        detector=sm.params.detector,
        incident_energy=sm.params.incident_energy,
        seed=sm.params.seed,
    )

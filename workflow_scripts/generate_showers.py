"""rule generate_showers: chunk {k} of a calorimeter study's {sample} from its trained generator."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_generator import generate_showers

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    generate_showers(
        sm.input[0],
        sm.output[0],
        calo=sm.wildcards.calo,
        sample=sm.wildcards.sample,
        index=int(sm.wildcards.k),
        n=sm.params.n,
        detector=sm.params.detector,
        incident_energy=sm.params.incident_energy,
        seed=sm.params.seed,
    )

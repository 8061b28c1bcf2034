"""rule simulate_showers: chunk {k} of a calorimeter study's {sample} from the simulator."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_showers import simulate_showers

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    simulate_showers(
        sm.output[0],
        calo=sm.wildcards.calo,
        sample=sm.wildcards.sample,
        index=int(sm.wildcards.k),
        n=sm.params.n,
        sample_cfg={"kind": sm.params.kind, "model": sm.params.model},
        detector=sm.params.detector,
        incident_energy=sm.params.incident_energy,
        seed=sm.params.seed,
    )

"""rule simulate_showers: chunk {k} of the {sample} showers from the parametrised simulator."""

from ganplify.core.runtime import job
from ganplify.jobs.calorimeter import simulate_showers

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    simulate_showers(
        sm.output[0],
        sample=sm.wildcards.sample,
        index=int(sm.wildcards.k),
        n=sm.params.n,
        sample_cfg={"kind": sm.params.kind, "model": sm.params.model},
        detector=sm.params.detector,
        energy_gev=sm.params.energy_gev,
        seed=sm.params.seed,
    )

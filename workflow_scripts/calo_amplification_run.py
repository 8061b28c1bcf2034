"""rule calo_amplification_run: N_eq of study {calo}'s generator trained on {ntrain} showers."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_amplification import amplification_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    amplification_run(
        sm.input.model,
        sm.input.truth,
        sm.input.reference,
        sm.output.run,
        sm.output.model,
        calo=sm.wildcards.calo,
        n_train=int(sm.wildcards.ntrain),
        n_generated=sm.params.n_generated,
        detector=sm.params.detector,
        incident_energy=sm.params.incident_energy,
        quantiles=sm.params.quantiles,
        n_bootstrap=sm.params.n_bootstrap,
        reweighter=sm.params.reweighter,
        seed=sm.params.seed,
        threads=sm.threads,
    )

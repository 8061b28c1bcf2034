"""rule calo_forecast_member: the observables of one member of a study's forecast ensemble — a
user's files, or a learned generator trained on its bootstrap resample of the training showers.

Runtime knobs (threads, checkpoint interval) come from the config here, not from params.
"""

from ganplify.core.runtime import job
from ganplify.jobs.calo_forecast import file_member_observables, trained_member_observables

sm = snakemake  # noqa: F821 - injected by Snakemake
member = sm.params.member
with job(sm.log[0]):
    if member["kind"] == "file":
        file_member_observables(
            member["paths"],
            member.get("format", "auto"),
            sm.output[0],
            detector=sm.params.detector,
            energy_range_gev=sm.params.energy_range_gev,
        )
    else:
        trained_member_observables(
            member["segments"],
            sm.output[0],
            calo=sm.wildcards.calo,
            member=int(sm.wildcards.member),
            n_showers=member["n_showers"],
            training=member["training"],
            detector=sm.params.detector,
            incident_energy=sm.params.incident_energy,
            seed=sm.params.seed,
            checkpoint=sm.params.checkpoint,
            checkpoint_every=sm.config["runtime"]["checkpoint_every"]["generator"],
            threads=sm.threads,
        )

"""rule shower_features: the observables of segment {k} of a calorimeter study's {sample}."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_showers import Segment, segment_observables

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    segment_observables(
        Segment(**sm.params.segment),
        sm.output[0],
        detector=sm.params.detector,
        energy_range_gev=sm.params.energy_range_gev,
    )

"""rule shower_features: the observables of segment {k} of the {sample} showers."""

from ganplify.core.runtime import job
from ganplify.jobs.calorimeter import Segment, segment_observables

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    segment_observables(Segment(**sm.params.segment), sm.output[0], detector=sm.params.detector)

"""rule ll_dctr: the stored low-level reweighter (3D CNN or cls-low network) on the showers,
streamed from the files; the fitting and the evaluation showers' weights.

DataLoader workers and the network's threads are runtime knobs read from the config (the batches
do not depend on them); the rule's threads count both, so that a cluster job asks for all the CPUs
it occupies.
"""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import ll_dctr
from ganplify.jobs.calo_showers import Segment

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    files = {
        "fit_truth": sm.input.truth,
        "fit_generated": sm.input.generated,
        "evaluation_generated": sm.input.evaluation,
    }
    ll_dctr(
        sm.output.weights,
        sm.output.model,
        calo=sm.wildcards.calo,
        samples={
            part: ([Segment(**s) for s in segments], files[part])
            for part, segments in sm.params.segments.items()
        },
        reweighter=sm.params.reweighter,
        detector=sm.params.detector,
        seed=sm.params.seed,
        threads=min(sm.threads, sm.config["runtime"]["threads"]["dctr"]),
        workers=sm.config["runtime"]["ll_workers"],
    )

"""rule ll_dctr: the cross-fitted low-level 3D CNN on the showers, streamed from the files.

DataLoader workers and the network's threads are runtime knobs read from the config (the batches
do not depend on them); the rule's threads count both, so that a cluster job asks for all the CPUs
it occupies.
"""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import ll_dctr
from ganplify.jobs.calo_showers import Segment

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    ll_dctr(
        sm.output[0],
        calo=sm.wildcards.calo,
        truth_segments=[Segment(**s) for s in sm.params.truth_segments],
        gen_segments=[Segment(**s) for s in sm.params.gen_segments],
        network=sm.params.network,
        folds=sm.params.folds,
        calibration=sm.params.calibration,
        weights=sm.params.weights,
        validation_fraction=sm.params.validation_fraction,
        detector=sm.params.detector,
        seed=sm.params.seed,
        threads=min(sm.threads, sm.config["dctr"]["threads"]),
        workers=sm.config["calorimeter"]["ll"]["workers"],
    )

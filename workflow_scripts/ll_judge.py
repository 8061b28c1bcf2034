"""rule ll_judge: fresh low-level networks (3D CNN or cls-low) of the evaluation truth against the
evaluation showers weighted by classifier {classifier}, with the controls."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_classifiers import ll_judge
from ganplify.jobs.calo_showers import Segment

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    files = {"evaluation_truth": sm.input.truth, "evaluation_generated": sm.input.generated}
    ll_judge(
        sm.input.weights,
        sm.output[0],
        calo=sm.wildcards.calo,
        judged=sm.wildcards.classifier,
        samples={
            part: ([Segment(**s) for s in segments], files[part])
            for part, segments in sm.params.segments.items()
        },
        network=sm.params.network,
        folds=sm.params.folds,
        bootstrap=sm.params.bootstrap,
        detector=sm.params.detector,
        seed=sm.params.seed,
        threads=min(sm.threads, sm.config["runtime"]["threads"]["dctr"]),
        workers=sm.config["runtime"]["ll_workers"],
    )

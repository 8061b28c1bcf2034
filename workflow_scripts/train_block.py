"""rule train_block: the GANs of a block of runs of {approach} in {study}, as one batched model.

Runtime knobs (threads, checkpoint interval) come from the config here, not from params, so that
changing them does not retrain anything. A preempted training exits 75 (ganplify.core.runtime).
"""

from ganplify.core.runtime import job
from ganplify.jobs.gan import train_block

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    train_block(
        list(sm.input),
        sm.output[0],
        approach=sm.wildcards.approach,
        members=sm.params.members,
        truth=sm.params.truth,
        quantiles=sm.params.quantiles,
        architecture=sm.params.architecture,
        training=sm.params.training,
        n_generated=sm.params.n_generated,
        seed=sm.params.seed,
        checkpoint=sm.params.checkpoint,
        checkpoint_every=sm.config["runtime"]["checkpoint_every"]["gan"],
        threads=sm.threads,
        run_files=sm.params.run_files,
    )

"""rule train_shower_generator: the learned generator of calorimeter study {calo}.

Runtime knobs (threads, checkpoint interval) come from the config here, not from params, so that
changing them does not retrain anything. A preempted training exits 75 (ganplify.core.runtime).
"""

from ganplify.core.runtime import job
from ganplify.jobs.calo_generator import train_shower_generator

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    train_shower_generator(
        sm.params.segments,
        sm.input.truth,
        sm.output[0],
        calo=sm.wildcards.calo,
        n_train=int(sm.wildcards.ntrain),
        training=sm.params.training,
        seed=sm.params.seed,
        checkpoint=sm.params.checkpoint,
        checkpoint_every=sm.config["runtime"]["checkpoint_every"]["generator"],
        threads=sm.threads,
    )

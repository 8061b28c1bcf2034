"""rules train_gan / train_ensemble: train on sample {i} of {study}, generate, score."""

import sys

from ganplify.jobs import setup_logging, train_generator
from ganplify.training import Preempted

sm = snakemake  # noqa: F821 - injected by Snakemake
setup_logging(sm.log[0])
try:
    train_generator(
        sm.input[0],
        sm.output[0],
        approach=sm.params.approach,
        study_cfg=sm.params.study_cfg,
        gan_cfg=sm.params.gan_cfg,
        seed=sm.params.seed,
        checkpoint=sm.params.checkpoint,
        threads=sm.threads,
    )
except Preempted as stop:
    # Non-zero exit: the scheduler requeues or Snakemake retries, and the next attempt resumes.
    print(stop, file=sys.stderr)
    sys.exit(75)  # EX_TEMPFAIL

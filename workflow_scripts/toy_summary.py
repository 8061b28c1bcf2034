"""rule toy_summary: S², r, N_eff and AUCs of every toy, GAN against DCTR-weighted GAN."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toy_summary

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    files = {
        toy: {stage: sm.input[f"{toy}_{stage}"] for stage in ("truth", "gan", "weights", "judge")}
        for toy in sm.params.toys
    }
    toy_summary(
        files,
        sm.output[0],
        bins=sm.params.bins,
        bootstrap_replicas=sm.params.bootstrap_replicas,
        seed=sm.params.seed,
    )

"""rule plot_toys: Fig. 1 of the DCTR paper (rows: toys; columns: truth, GAN, weighted GAN)."""

from ganplify.core.runtime import job
from ganplify.jobs.dctr_toys import toys_figure

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    files = {
        toy: {stage: sm.input[f"{toy}_{stage}"] for stage in ("truth", "gan", "weights")}
        for toy in sm.params.toys
    }
    toys_figure(files, outputs=list(sm.output))

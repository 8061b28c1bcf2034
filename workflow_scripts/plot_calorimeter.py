"""rule plot_calorimeter: Figs. 2-8 of the DCTR paper (or their per-layer analogues) for a
calorimeter study."""

from ganplify.core.runtime import job
from ganplify.jobs.calo_summary import calo_figures

sm = snakemake  # noqa: F821 - injected by Snakemake
with job(sm.log[0]):
    calo_figures(
        sm.input.truth,
        sm.input.generated,
        {name: sm.input[f"weights_{name}"] for name in sm.params.classifiers},
        sm.input.summary,
        detector=sm.params.detector,
        n_edges=sm.params.n_edges,
        outputs=dict(sm.output.items()),
        gen_label=f"Generator ({sm.params.generator_kind})",
    )

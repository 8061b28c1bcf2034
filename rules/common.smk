# Configuration validation and target functions shared by every stage.
from pathlib import Path

from ganplify.config import selected_studies, study_n_samples, validate_config
from ganplify.studies import APPROACH_DIRS

# Fail before any job is planned: a wrong key costs a second, not a cluster allocation.
validate_config(
    config, schema_path=Path(workflow.basedir) / "schemas" / "config.schema.yaml"
)


localrules:
    gather,
    fit_summary,
    plot_overview,
    plot_quantile_errors,
    plot_training,
    saturation,
    export_config,


wildcard_constraints:
    study="[a-z][a-z0-9_]*",
    i=r"\d+",


STUDIES = selected_studies(config)
APPROACHES = list(config["approaches"])


def study_cfg(wildcards):
    return config["studies"][wildcards.study]


def run_files(study, approach):
    """Per-run output files of one approach of one study, in run order."""
    return expand(
        "results/{study}/{dir}/{i}.h5",
        study=study,
        dir=APPROACH_DIRS[approach],
        i=range(study_n_samples(config, study)),
    )


def gather_inputs(wildcards):
    return {a: run_files(wildcards.study, a) for a in APPROACHES}


GENERATORS = [a for a in APPROACHES if a in ("gan", "ensemble")]


def overview_inputs(wildcards):
    """Run 0 of every approach that has something to draw in Fig. 1."""
    inputs = {"sample": f"results/{wildcards.study}/samples/0.h5"}
    for approach in ("fit", "gan", "ensemble"):
        if approach in APPROACHES:
            inputs[approach] = run_files(wildcards.study, approach)[0]
    return inputs


def final_outputs():
    """Everything `snakemake` builds by default: tables, figures and the exported config."""
    out = ["results/config.yaml"]
    for study in STUDIES:
        out += [
            f"results/{study}/quantile_errors.h5",
            f"results/{study}/equivalent_events.csv",
        ]
        out += expand(
            "results/{study}/figures/{fig}.{ext}",
            study=study,
            fig=["overview", "quantile_errors"],
            ext=["png", "pdf"],
        )
        if "fit" in APPROACHES:
            out.append(f"results/{study}/fit_summary.csv")
        if GENERATORS:
            out.append(f"results/{study}/saturation.csv")
            out += expand(
                "results/{study}/figures/training_{approach}.png",
                study=study,
                approach=GENERATORS,
            )
    return out

rule plot_overview:
    input:
        unpack(overview_inputs),
    output:
        png=report(
            "results/{study}/figures/overview.png",
            caption="../report/overview.rst",
            category="Figures",
            subcategory="{study}",
        ),
        pdf="results/{study}/figures/overview.pdf",
    log:
        "logs/{study}/plot_overview.log",
    conda:
        "../envs/cpu.yaml"
    params:
        study_cfg=study_cfg,
    script:
        "../workflow_scripts/plot_overview.py"


rule plot_quantile_errors:
    input:
        "results/{study}/quantile_errors.h5",
    output:
        png=report(
            "results/{study}/figures/quantile_errors.png",
            caption="../report/quantile_errors.rst",
            category="Figures",
            subcategory="{study}",
        ),
        pdf="results/{study}/figures/quantile_errors.pdf",
    log:
        "logs/{study}/plot_quantile_errors.log",
    conda:
        "../envs/cpu.yaml"
    params:
        study_cfg=study_cfg,
    script:
        "../workflow_scripts/plot_quantile_errors.py"


rule plot_training:
    input:
        lambda w: run_files(w.study, w.approach),
    output:
        report(
            "results/{study}/figures/training_{approach}.png",
            caption="../report/training.rst",
            category="Figures",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/plot_training_{approach}.log",
    wildcard_constraints:
        approach="gan|ensemble",
    conda:
        "../envs/cpu.yaml"
    params:
        title=lambda w: f"{w.study}: {w.approach} training, all runs",
    script:
        "../workflow_scripts/plot_training.py"

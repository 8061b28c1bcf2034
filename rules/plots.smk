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
        truth=study_value("truth"),
        generators=[a for a in TRAINED],
    script:
        "../workflow_scripts/plot_overview.py"


rule plot_quantile_errors:
    input:
        rules.gather.output.h5,
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
        truth=study_value("truth"),
        n_train=study_value("n_train"),
        quantiles=study_value("quantiles"),
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
        approach=TRAINED_PATTERN,
    conda:
        "../envs/cpu.yaml"
    params:
        title=lambda w: f"{w.study}: {APPROACHES[w.approach].label} training, all runs",
    script:
        "../workflow_scripts/plot_training.py"


rule plot_amplification_vs_ntrain:
    input:
        rules.amplification_vs_ntrain.output[0],
    output:
        report(
            "results/{study}/figures/amplification_vs_ntrain.png",
            caption="../report/amplification_vs_ntrain_figure.rst",
            category="Figures",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/plot_amplification_vs_ntrain.log",
    conda:
        "../envs/cpu.yaml"
    params:
        truth=study_value("truth"),
        quantiles=study_value("quantiles"),
    script:
        "../workflow_scripts/plot_amplification_vs_ntrain.py"

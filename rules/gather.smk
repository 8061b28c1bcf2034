rule gather:
    input:
        unpack(gather_inputs),
    output:
        h5="results/{study}/quantile_errors.h5",
        csv=report(
            "results/{study}/equivalent_events.csv",
            caption="../report/equivalent_events.rst",
            category="Tables",
            subcategory="{study}",
        ),
        marginal=report(
            "results/{study}/marginal_errors.csv",
            caption="../report/marginal_errors.rst",
            category="Tables",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/gather.log",
    conda:
        "../envs/cpu.yaml"
    params:
        approaches=RUN_APPROACHES,
        truth=study_value("truth"),
        n_train=study_value("n_train"),
        quantiles=study_value("quantiles"),
        reference_sizes=study_value("reference_sizes"),
        statistics=config["statistics"],
        seed=config["seed"],
    script:
        "../workflow_scripts/gather.py"


rule amplification_vs_ntrain:
    input:
        size_study_tables,
    output:
        report(
            "results/{study}/amplification_vs_ntrain.csv",
            caption="../report/amplification_vs_ntrain.rst",
            category="Tables",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/amplification_vs_ntrain.log",
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/amplification_vs_ntrain.py"


rule export_config:
    output:
        report(
            "results/config.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        "logs/export_config.log",
    conda:
        "../envs/cpu.yaml"
    params:
        # the whole config is what this rule writes: any change must rewrite it
        config=config,
    script:
        "../workflow_scripts/export_config.py"

rule fit:
    input:
        rules.sample.output,
    output:
        "results/{study}/fits/{i}.h5",
    log:
        "logs/{study}/fit/{i}.log",
    benchmark:
        "results/benchmarks/{study}/fit/{i}.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        truth=study_value("truth"),
        quantiles=study_value("quantiles"),
    script:
        "../workflow_scripts/fit.py"


rule fit_summary:
    input:
        lambda w: run_files(w.study, "fit"),
    output:
        report(
            "results/{study}/fit_summary.csv",
            caption="../report/fit_summary.rst",
            category="Tables",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/fit_summary.log",
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/fit_summary.py"

rule sample:
    output:
        "results/{study}/samples/{i}.h5",
    log:
        "logs/{study}/sample/{i}.log",
    conda:
        "../envs/cpu.yaml"
    params:
        truth=study_value("truth"),
        n_train=study_value("n_train"),
        quantiles=study_value("quantiles"),
        seed=config["seed"],
    script:
        "../workflow_scripts/sample.py"

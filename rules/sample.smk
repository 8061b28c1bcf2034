rule sample:
    output:
        "results/{study}/samples/{i}.h5",
    log:
        "logs/{study}/sample/{i}.log",
    conda:
        "../envs/cpu.yaml"
    params:
        study_cfg=study_cfg,
        seed=config["seed"],
    script:
        "../workflow_scripts/sample.py"

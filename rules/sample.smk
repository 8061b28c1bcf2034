rule sample:
    output:
        "results/{study}/samples/{i}.h5",
    log:
        "logs/{study}/sample/{i}.log",
    params:
        study_cfg=study_cfg,
        seed=config["seed"],
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/sample.py"

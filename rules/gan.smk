# GAN trainings: one GAN per training sample, and one ensemble of `gan.ensemble_members` GANs
# trained batched on the identical sample. Checkpoints live outside the declared outputs
# (Snakemake deletes outputs before a job runs) so that a killed or preempted job resumes.


rule train_gan:
    input:
        "results/{study}/samples/{i}.h5",
    output:
        "results/{study}/gan/{i}.h5",
    log:
        "logs/{study}/train_gan/{i}.log",
    benchmark:
        "results/benchmarks/{study}/train_gan/{i}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["gan"]["threads"]
    resources:
        gpu=1,
    params:
        approach="gan",
        study_cfg=study_cfg,
        gan_cfg=config["gan"],
        seed=config["seed"],
        checkpoint="checkpoints/{study}/gan/{i}.pt",
    script:
        "../workflow_scripts/train_gan.py"


rule train_ensemble:
    input:
        "results/{study}/samples/{i}.h5",
    output:
        "results/{study}/ensemble/{i}.h5",
    log:
        "logs/{study}/train_ensemble/{i}.log",
    benchmark:
        "results/benchmarks/{study}/train_ensemble/{i}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["gan"]["threads"]
    resources:
        gpu=1,
    params:
        approach="ensemble",
        study_cfg=study_cfg,
        gan_cfg=config["gan"],
        seed=config["seed"],
        checkpoint="checkpoints/{study}/ensemble/{i}.pt",
    script:
        "../workflow_scripts/train_gan.py"


rule saturation:
    input:
        "results/{study}/quantile_errors.h5",
    output:
        report(
            "results/{study}/saturation.csv",
            caption="../report/saturation.rst",
            category="Tables",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/saturation.log",
    conda:
        "../envs/cpu.yaml"
    params:
        n_train=lambda w: config["studies"][w.study]["n_train"],
        fraction=config["gan"]["saturation_fraction"],
    script:
        "../workflow_scripts/saturation.py"

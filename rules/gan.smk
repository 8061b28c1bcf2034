# GAN trainings: one GAN per training sample, and one ensemble of `gan.ensemble_members` GANs
# trained on the identical sample. `advanced.gan_pack` GANs (counting ensemble members) train as one batched
# model in one job: a block of runs of one approach. The block file is temporary; each run's file
# is cut out of it by a local job, so everything downstream reads per-run files as before.
# Checkpoints live outside the declared outputs (Snakemake deletes outputs before a job runs) so
# that a killed or preempted block resumes. Params hold what determines a training's result;
# runtime knobs (`runtime.threads.gan`, `runtime.checkpoint_every.gan`) are read by the script from the config.


rule train_block:
    input:
        block_samples,
    output:
        temp("results/{study}/blocks/{approach}/{block}.h5"),
    log:
        "logs/{study}/train_block/{approach}/{block}.log",
    benchmark:
        "results/benchmarks/{study}/train_block/{approach}/{block}.tsv"
    wildcard_constraints:
        approach=TRAINED_PATTERN,
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["gan"]
    resources:
        gpu=1,
    params:
        members=lambda w: APPROACHES[w.approach].members(config["gan"]),
        truth=study_value("truth"),
        quantiles=study_value("quantiles"),
        architecture=config["gan"]["architecture"],
        training=GAN_TRAINING,
        n_generated=config["gan"]["n_generated"],
        seed=config["seed"],
        run_files=block_run_files,
        checkpoint="checkpoints/{study}/blocks/{approach}/{block}.pt",
    script:
        "../workflow_scripts/train_block.py"


rule unpack_run:
    input:
        block_of_run,
    output:
        "results/{study}/{approach}/{i}.h5",
    log:
        "logs/{study}/unpack_run/{approach}/{i}.log",
    wildcard_constraints:
        approach=TRAINED_PATTERN,
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/unpack_run.py"


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
        n_train=study_value("n_train"),
        fraction=config["gan"]["saturation_fraction"],
    script:
        "../workflow_scripts/saturation.py"

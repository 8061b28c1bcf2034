# Beyond both papers: forecast the study's GAN's amplification without the truth
# (arXiv:2509.08048; docs/science.md §1.7). For the first `forecast.runs` training samples, GANs
# of the study's architecture trained on bootstrap resamples of the sample (`forecast.members` per
# run, a block of runs as one batched model like the ensembles); their spread per quantile cell
# forecasts N_eq(M) and G(M), which the table puts beside the truth's measurement of the study's
# GAN. Runtime knobs (`runtime.threads.gan`, `runtime.checkpoint_every.gan`) are read by the script from the config.


rule train_forecast_block:
    input:
        forecast_block_samples,
    output:
        "results/{study}/forecast/blocks/{block}.h5",
    log:
        "logs/{study}/forecast/train_block/{block}.log",
    benchmark:
        "results/benchmarks/{study}/forecast/train_block/{block}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["gan"]
    resources:
        gpu=1,
    params:
        members=lambda w: FORECAST["members"],
        truth=study_value("truth"),
        quantiles=study_value("quantiles"),
        architecture=config["gan"]["architecture"],
        training=GAN_TRAINING,
        n_generated=lambda w: FORECAST["n_generated"],
        seed=config["seed"],
        checkpoint="checkpoints/{study}/forecast/blocks/{block}.pt",
    script:
        "../workflow_scripts/train_forecast_block.py"


rule forecast:
    input:
        unpack(forecast_inputs),
    output:
        table=report(
            "results/{study}/forecast.csv",
            caption="../report/forecast.rst",
            category="Tables",
            subcategory="{study}",
        ),
        figure=report(
            "results/{study}/figures/forecast.png",
            caption="../report/forecast_figure.rst",
            category="Figures",
            subcategory="{study}",
        ),
    log:
        "logs/{study}/forecast.log",
    benchmark:
        "results/benchmarks/{study}/forecast/forecast.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        truth=study_value("truth"),
        n_train=study_value("n_train"),
        quantiles=study_value("quantiles"),
        n_generated=config["gan"]["n_generated"],
        statistics=config["statistics"],
        resamples=lambda w: FORECAST["resamples"],
        seed=config["seed"],
    script:
        "../workflow_scripts/forecast.py"

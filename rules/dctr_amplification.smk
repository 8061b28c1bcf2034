# DCTR meets amplification: each run's generated events (GAN, ensemble) reweighted towards the
# run's own training sample by a cross-fitted classifier; scored like any generator.


rule reweight_run:
    input:
        sample="results/{study}/samples/{i}.h5",
        generator=reweighted_generator_file,
    output:
        "results/{study}/{approach}/{i}.h5",
    log:
        "logs/{study}/reweight_run/{approach}/{i}.log",
    benchmark:
        "results/benchmarks/{study}/reweight_run/{approach}/{i}.tsv"
    wildcard_constraints:
        approach=REWEIGHTED_PATTERN,
    # a small MLP on ~100 points against a few thousand events: a CPU job (no GPU in the profile)
    conda:
        "../envs/cpu.yaml"
    params:
        truth=study_value("truth"),
        quantiles=study_value("quantiles"),
        classifier=classifier_settings(config["dctr"]["amplification"]["classifier"]),
        folds=config["dctr"]["amplification"]["folds"],
        max_train_generated=config["dctr"]["amplification"]["max_train_generated"],
        calibration=classifier_calibration(
            config["dctr"]["amplification"]["classifier"]
        ),
        weights=unraked_weights(cap=config["dctr"]["amplification"]["cap"]),
        judge=JUDGE,
        seed=config["seed"],
    script:
        "../workflow_scripts/reweight_run.py"

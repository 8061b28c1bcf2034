# DCTR meets amplification: each run's generated events (GAN, ensemble) weighted towards the run's
# own training sample by a stored reweighter fitted on other events of the same generators; scored
# like any generator.


rule reweight_run:
    input:
        sample="results/{study}/samples/{i}.h5",
        generator=reweighted_generator_file,
    output:
        run="results/{study}/{approach}/{i}.h5",
        model="results/{study}/{approach}/reweighters/{i}.h5",
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
        reweighter=reweighter("amplification"),
        fit_generated=config["dctr"]["amplification"]["fit_generated"],
        judge=JUDGE,
        seed=config["seed"],
    script:
        "../workflow_scripts/reweight_run.py"

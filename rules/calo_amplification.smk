# Does a learned shower generator amplify? For each study of `calorimeter.amplification.run` and
# each training size: a large independent truth sample (the reference), the generator trained on
# the first n_train truth showers (rule train_shower_generator), its showers' observables with and
# without DCTR weights (a reweighter fitted on the same n_train showers against another draw of
# the generator, stored) against the reference's quantiles, and one table and figure for all.


rule calo_reference:
    output:
        "results/calorimeter/{calo}/amplification/reference.h5",
    log:
        "logs/calorimeter/{calo}/amplification/reference.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/amplification/reference.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        n=config["calorimeter"]["amplification"]["n_reference"],
        detector=calo_value("detector"),
        incident_energy=calo_value("incident_energy"),
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_reference.py"


rule calo_amplification_run:
    input:
        model=rules.train_shower_generator.output[0],
        truth="results/calorimeter/{calo}/truth/features.h5",
        reference=rules.calo_reference.output[0],
    output:
        run="results/calorimeter/{calo}/amplification/{ntrain}.h5",
        model="results/calorimeter/{calo}/amplification/{ntrain}_reweighter.h5",
    log:
        "logs/calorimeter/{calo}/amplification/{ntrain}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/amplification/{ntrain}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["dctr"]
    params:
        n_generated=config["calorimeter"]["amplification"]["n_generated"],
        quantiles=config["calorimeter"]["amplification"]["quantiles"],
        n_bootstrap=config["calorimeter"]["amplification"]["n_bootstrap"],
        detector=calo_value("detector"),
        incident_energy=calo_value("incident_energy"),
        reweighter=reweighter("calo_amplification"),
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_amplification_run.py"


rule calo_amplification:
    input:
        calo_amplification_runs,
    output:
        table=report(
            "results/calorimeter/calo_amplification.csv",
            caption="../report/calo_amplification.rst",
            category="Calorimeter",
            subcategory="Amplification",
        ),
        figure=report(
            "results/calorimeter/figures/calo_amplification.png",
            caption="../report/calo_amplification.rst",
            category="Calorimeter",
            subcategory="Amplification",
        ),
    log:
        "logs/calorimeter/calo_amplification.log",
    conda:
        "../envs/cpu.yaml"
    params:
        studies=lambda w: [calo for calo, _ in AMPLIFICATION_RUNS],
    script:
        "../workflow_scripts/calo_amplification.py"

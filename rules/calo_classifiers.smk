# A calorimeter study's DCTR reweighters — high-level (hl, conditional on the incident energy in
# the CaloChallenge geometries) and low-level (ll, the 3D CNN or the challenge's cls-low network)
# — fitted on the fitting showers and stored, their weights of the fitting and the evaluation
# showers, and the judges of those weights on the evaluation showers (HL trees, LL network).


rule hl_dctr:
    input:
        truth=features_file("truth", "fit"),
        generated=features_file("generated", "fit"),
        evaluation=features_file("generated", "evaluation"),
    output:
        weights="results/calorimeter/{calo}/weights_hl.h5",
        model="results/calorimeter/{calo}/reweighter_hl.h5",
    log:
        "logs/calorimeter/{calo}/hl_dctr.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/hl_dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["dctr"]
    params:
        detector=calo_value("detector"),
        reweighter=reweighter("calo_hl"),
        seed=config["seed"],
    script:
        "../workflow_scripts/hl_dctr.py"


rule ll_dctr:
    input:
        # the observables jobs check every value of the showers: no training on a bad file
        truth=features_file("truth", "fit"),
        generated=features_file("generated", "fit"),
        evaluation=features_file("generated", "evaluation"),
        showers=part_shower_files(
            ("truth", "fit"), ("generated", "fit"), ("generated", "evaluation")
        ),
    output:
        weights="results/calorimeter/{calo}/weights_ll.h5",
        model="results/calorimeter/{calo}/reweighter_ll.h5",
    log:
        "logs/calorimeter/{calo}/ll_dctr.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/ll_dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    # the network's threads and the DataLoader's reader processes: what the job occupies
    threads: config["runtime"]["threads"]["dctr"] + config["runtime"]["ll_workers"]
    params:
        segments=lambda w: {
            "fit_truth": part_segments(w, "truth", "fit"),
            "fit_generated": part_segments(w, "generated", "fit"),
            "evaluation_generated": part_segments(w, "generated", "evaluation"),
        },
        reweighter=reweighter("calo_ll"),
        detector=calo_value("detector"),
        seed=config["seed"],
    script:
        "../workflow_scripts/ll_dctr.py"


rule calo_judge:
    input:
        truth=features_file("truth", "evaluation"),
        generated=features_file("generated", "evaluation"),
        weights="results/calorimeter/{calo}/weights_{classifier}.h5",
    output:
        "results/calorimeter/{calo}/judge_{classifier}.h5",
    log:
        "logs/calorimeter/{calo}/judge_{classifier}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/judge_{classifier}.tsv"
    conda:
        "../envs/cpu.yaml"
    threads: config["runtime"]["threads"]["dctr"]
    params:
        detector=calo_value("detector"),
        judge=JUDGE,
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_judge.py"


rule ll_judge:
    input:
        truth=features_file("truth", "evaluation"),
        generated=features_file("generated", "evaluation"),
        showers=part_shower_files(("truth", "evaluation"), ("generated", "evaluation")),
        weights="results/calorimeter/{calo}/weights_{classifier}.h5",
    output:
        "results/calorimeter/{calo}/ll_judge_{classifier}.h5",
    log:
        "logs/calorimeter/{calo}/ll_judge_{classifier}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/ll_judge_{classifier}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["dctr"] + config["runtime"]["ll_workers"]
    params:
        segments=lambda w: {
            "evaluation_truth": part_segments(w, "truth", "evaluation"),
            "evaluation_generated": part_segments(w, "generated", "evaluation"),
        },
        network=lambda w: reweighter("calo_ll")["classifier"],
        folds=JUDGE["folds"],
        bootstrap=JUDGE["bootstrap"],
        detector=calo_value("detector"),
        seed=config["seed"],
    script:
        "../workflow_scripts/ll_judge.py"

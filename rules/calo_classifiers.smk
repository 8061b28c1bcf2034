# A calorimeter study's DCTR classifiers: high-level (hl, conditional on the incident energy in
# the CaloChallenge geometries), low-level (ll, the 3D CNN), their closure tests, and the judge
# (the boosted trees of an independent truth sample against the weighted showers).


rule hl_dctr:
    input:
        truth="results/calorimeter/{calo}/truth/features.h5",
        generated="results/calorimeter/{calo}/generated/features.h5",
    output:
        "results/calorimeter/{calo}/weights_hl.h5",
    log:
        "logs/calorimeter/{calo}/hl_dctr.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/hl_dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"]
    params:
        detector=calo_value("detector"),
        classifier=classifier_settings(config["calorimeter"]["hl"]),
        folds=config["dctr"]["folds"],
        calibration=classifier_calibration(config["calorimeter"]["hl"]),
        weights=config["dctr"]["weights"],
        seed=config["seed"],
    script:
        "../workflow_scripts/hl_dctr.py"


rule ll_dctr:
    input:
        # the observables jobs check every value of the showers: no training on a bad file
        features=[
            "results/calorimeter/{calo}/truth/features.h5",
            "results/calorimeter/{calo}/generated/features.h5",
        ],
        showers=segment_files("truth", "generated"),
    output:
        "results/calorimeter/{calo}/weights_ll.h5",
    log:
        "logs/calorimeter/{calo}/ll_dctr.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/ll_dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    # the network's threads and the DataLoader's reader processes: what the job occupies
    threads: config["dctr"]["threads"] + config["calorimeter"]["ll"]["workers"]
    params:
        truth_segments=lambda w: [s.__dict__ for s in SEGMENTS[w.calo]["truth"]],
        gen_segments=lambda w: [s.__dict__ for s in SEGMENTS[w.calo]["generated"]],
        network=ll_network_settings,
        folds=config["dctr"]["folds"],
        calibration=config["calorimeter"]["ll"]["calibration"],
        weights=ll_weight_settings,
        validation_fraction=config["calorimeter"]["ll"]["validation_fraction"],
        detector=calo_value("detector"),
        seed=config["seed"],
    script:
        "../workflow_scripts/ll_dctr.py"


rule calo_closure:
    input:
        truth="results/calorimeter/{calo}/truth/features.h5",
        generated="results/calorimeter/{calo}/generated/features.h5",
        weights="results/calorimeter/{calo}/weights_{classifier}.h5",
    output:
        "results/calorimeter/{calo}/closure_{classifier}.h5",
    log:
        "logs/calorimeter/{calo}/closure_{classifier}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/closure_{classifier}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"]
    params:
        detector=calo_value("detector"),
        classifier=classifier_settings(config["calorimeter"]["hl"]),
        folds=config["dctr"]["folds"],
        calibration=classifier_calibration(config["calorimeter"]["hl"]),
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_closure.py"


rule calo_judge:
    input:
        judge="results/calorimeter/{calo}/judge/features.h5",
        generated="results/calorimeter/{calo}/generated/features.h5",
        weights="results/calorimeter/{calo}/weights_{classifier}.h5",
    output:
        "results/calorimeter/{calo}/judge_{classifier}.h5",
    log:
        "logs/calorimeter/{calo}/judge_{classifier}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/judge_{classifier}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"]
    params:
        detector=calo_value("detector"),
        classifier=JUDGE,
        folds=config["dctr"]["folds"],
        calibration=classifier_calibration(JUDGE),
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_judge.py"


rule ll_closure:
    input:
        features=[
            "results/calorimeter/{calo}/truth/features.h5",
            "results/calorimeter/{calo}/generated/features.h5",
        ],
        showers=closure_segment_files,
        weights="results/calorimeter/{calo}/weights_{classifier}.h5",
    output:
        "results/calorimeter/{calo}/ll_closure_{classifier}.h5",
    log:
        "logs/calorimeter/{calo}/ll_closure_{classifier}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/ll_closure_{classifier}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"] + config["calorimeter"]["ll"]["workers"]
    params:
        # the independent judge sample where there is one: truth no reweighter saw
        truth_segments=lambda w: [
            s.__dict__ for s in SEGMENTS[w.calo][closure_truth(w.calo)]
        ],
        gen_segments=lambda w: [s.__dict__ for s in SEGMENTS[w.calo]["generated"]],
        network=ll_network_settings,
        folds=config["dctr"]["folds"],
        calibration=config["calorimeter"]["ll"]["calibration"],
        validation_fraction=config["calorimeter"]["ll"]["validation_fraction"],
        detector=calo_value("detector"),
        seed=config["seed"],
    script:
        "../workflow_scripts/ll_closure.py"

# The DCTR paper's calorimeter (arXiv:2009.03796, Sec. III.2): truth and generated showers, in
# chunks (simulated: one job per chunk; from files: one job per segment), their observables, the
# high-level DCTR classifier and its closure test, the summaries and Figs. 2-8.


rule simulate_showers:
    output:
        "results/calorimeter/{sample}/showers/{k}.h5",
    log:
        "logs/calorimeter/{sample}/simulate/{k}.log",
    benchmark:
        "results/benchmarks/calorimeter/{sample}/simulate/{k}.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        kind=lambda w: CALO_SAMPLES[w.sample]["kind"],
        model=lambda w: CALO_SAMPLES[w.sample].get("model", {}),
        n=lambda w: SEGMENTS[w.sample][int(w.k)].n,
        detector=config["calorimeter"]["detector"],
        energy_gev=config["calorimeter"]["energy_gev"],
        seed=config["seed"],
    script:
        "../workflow_scripts/simulate_showers.py"


rule shower_features:
    input:
        segment_file,
    output:
        "results/calorimeter/{sample}/features/{k}.h5",
    log:
        "logs/calorimeter/{sample}/features/{k}.log",
    benchmark:
        "results/benchmarks/calorimeter/{sample}/features/{k}.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        segment=lambda w: SEGMENTS[w.sample][int(w.k)].__dict__,
        detector=config["calorimeter"]["detector"],
    script:
        "../workflow_scripts/shower_features.py"


rule gather_shower_features:
    input:
        feature_chunks,
    output:
        "results/calorimeter/{sample}/features.h5",
    log:
        "logs/calorimeter/{sample}/gather_features.log",
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/gather_shower_features.py"


rule hl_dctr:
    input:
        truth="results/calorimeter/truth/features.h5",
        generated="results/calorimeter/generated/features.h5",
    output:
        "results/calorimeter/weights_hl.h5",
    log:
        "logs/calorimeter/hl_dctr.log",
    benchmark:
        "results/benchmarks/calorimeter/hl_dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"]
    params:
        classifier=config["calorimeter"]["hl"],
        folds=config["dctr"]["folds"],
        calibration=config["dctr"]["calibration"],
        weights=config["dctr"]["weights"],
        seed=config["seed"],
    script:
        "../workflow_scripts/hl_dctr.py"


rule ll_dctr:
    input:
        # the observables jobs check every value of the showers: no training on a bad file
        features=[
            "results/calorimeter/truth/features.h5",
            "results/calorimeter/generated/features.h5",
        ],
        showers=all_segment_files,
    output:
        "results/calorimeter/weights_ll.h5",
    log:
        "logs/calorimeter/ll_dctr.log",
    benchmark:
        "results/benchmarks/calorimeter/ll_dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"]
    params:
        truth_segments=lambda w: [s.__dict__ for s in SEGMENTS["truth"]],
        gen_segments=lambda w: [s.__dict__ for s in SEGMENTS["generated"]],
        network=ll_network_settings,
        folds=config["dctr"]["folds"],
        calibration=config["calorimeter"]["ll"]["calibration"],
        weights=ll_weight_settings,
        validation_fraction=config["calorimeter"]["ll"]["validation_fraction"],
        detector=config["calorimeter"]["detector"],
        seed=config["seed"],
    script:
        "../workflow_scripts/ll_dctr.py"


rule calo_closure:
    input:
        truth="results/calorimeter/truth/features.h5",
        generated="results/calorimeter/generated/features.h5",
        weights="results/calorimeter/weights_{classifier}.h5",
    output:
        "results/calorimeter/closure_{classifier}.h5",
    log:
        "logs/calorimeter/closure_{classifier}.log",
    benchmark:
        "results/benchmarks/calorimeter/closure_{classifier}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["dctr"]["threads"]
    params:
        classifier=config["calorimeter"]["hl"],
        folds=config["dctr"]["folds"],
        calibration=config["dctr"]["calibration"],
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_closure.py"


rule calo_summary:
    input:
        unpack(calo_classifier_files),
        truth="results/calorimeter/truth/features.h5",
        generated="results/calorimeter/generated/features.h5",
    output:
        summary=report(
            "results/calorimeter/dctr_summary.csv",
            caption="../report/calo_summary.rst",
            category="DCTR calorimeter",
        ),
        classifiers=report(
            "results/calorimeter/classifier_summary.csv",
            caption="../report/calo_classifiers.rst",
            category="DCTR calorimeter",
        ),
    log:
        "logs/calorimeter/summary.log",
    conda:
        "../envs/cpu.yaml"
    params:
        classifiers=CALO_CLASSIFIERS,
        n_edges=config["calorimeter"]["n_edges"],
        bootstrap_replicas=config["dctr"]["bootstrap_replicas"],
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_summary.py"


rule plot_calorimeter:
    input:
        unpack(calo_classifier_files),
        truth="results/calorimeter/truth/features.h5",
        generated="results/calorimeter/generated/features.h5",
        summary=rules.calo_summary.output.summary,
    output:
        **{
            fig: report(
                f"results/calorimeter/figures/{fig}.png",
                caption=f"../report/calo_{fig}.rst",
                category="DCTR calorimeter",
            )
            for fig in CALO_FIGURES
        },
    log:
        "logs/calorimeter/plot.log",
    conda:
        "../envs/cpu.yaml"
    params:
        classifiers=CALO_CLASSIFIERS,
        n_edges=config["calorimeter"]["n_edges"],
        generator_kind=config["calorimeter"]["generator"]["kind"],
    script:
        "../workflow_scripts/plot_calorimeter.py"

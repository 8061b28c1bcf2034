# A calorimeter study's summaries (per observable, per classifier, per incident-energy bin), the
# CaloChallenge's FPD/KPD, and the DCTR paper's Figs. 2-8 (or their per-layer analogues): all of
# the evaluation showers, which no fitting step saw.


rule calo_summary:
    input:
        unpack(calo_weight_files),
        unpack(calo_judge_files),
        truth=features_file("truth", "evaluation"),
        generated=features_file("generated", "evaluation"),
    output:
        summary=report(
            "results/calorimeter/{calo}/dctr_summary.csv",
            caption="../report/calo_summary.rst",
            category="DCTR calorimeter",
            subcategory="{calo}",
        ),
        classifiers=report(
            "results/calorimeter/{calo}/classifier_summary.csv",
            caption="../report/calo_classifiers.rst",
            category="DCTR calorimeter",
            subcategory="{calo}",
        ),
        energy_bins=report(
            "results/calorimeter/{calo}/energy_bins.csv",
            caption="../report/calo_energy_bins.rst",
            category="DCTR calorimeter",
            subcategory="{calo}",
        ),
    log:
        "logs/calorimeter/{calo}/summary.log",
    conda:
        "../envs/cpu.yaml"
    params:
        classifiers=calo_value("classifiers"),
        judge_files=lambda w: {j: JUDGE_PREFIX[j] for j in CALO[w.calo]["judges"]},
        detector=calo_value("detector"),
        incident_energy=calo_value("incident_energy"),
        n_edges=config["calorimeter"]["n_edges"],
        bootstrap_replicas=config["dctr"]["bootstrap_replicas"],
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_summary.py"


rule calo_metrics:
    input:
        unpack(calo_weight_files),
        truth=features_file("truth", "evaluation"),
        generated=features_file("generated", "evaluation"),
    output:
        report(
            "results/calorimeter/{calo}/challenge_metrics.csv",
            caption="../report/calo_metrics.rst",
            category="DCTR calorimeter",
            subcategory="{calo}",
        ),
    log:
        "logs/calorimeter/{calo}/metrics.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/metrics.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        classifiers=calo_value("classifiers"),
        detector=calo_value("detector"),
        fpd=config["calorimeter"]["metrics"]["fpd"],
        kpd=config["calorimeter"]["metrics"]["kpd"],
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_metrics.py"


rule plot_calorimeter:
    input:
        unpack(calo_weight_files),
        truth=features_file("truth", "evaluation"),
        generated=features_file("generated", "evaluation"),
        summary=rules.calo_summary.output.summary,
    output:
        **{
            fig: report(
                f"results/calorimeter/{{calo}}/figures/{fig}.png",
                caption=f"../report/calo_{fig}.rst",
                category="DCTR calorimeter",
                subcategory="{calo}",
            )
            for fig in CALO_FIGURES
        },
    log:
        "logs/calorimeter/{calo}/plot.log",
    conda:
        "../envs/cpu.yaml"
    params:
        classifiers=calo_value("classifiers"),
        detector=calo_value("detector"),
        n_edges=config["calorimeter"]["n_edges"],
        generator_kind=lambda w: CALO[w.calo]["generator"]["kind"],
    script:
        "../workflow_scripts/plot_calorimeter.py"

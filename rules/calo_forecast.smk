# Forecast a shower generator's amplification from an ensemble of bootstrap members
# (docs/science.md §1.7), per study of `calorimeter.forecast.run`: a user's generated files, one set
# per member, with no truth beyond the training sample (the study's truth sample); or the study's
# learned generator trained on bootstrap resamples of its first n_train truth showers, checked against
# the reference truth where `calorimeter.amplification` measures that generator.


rule calo_forecast_member:
    input:
        calo_forecast_member_files,
    output:
        "results/calorimeter/{calo}/forecast/members/{member}.h5",
    log:
        "logs/calorimeter/{calo}/forecast/member_{member}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/forecast/member_{member}.tsv"
    wildcard_constraints:
        member=r"\d+",
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["generator"]
    resources:
        gpu=1,
    params:
        member=calo_forecast_member,
        detector=calo_value("detector"),
        incident_energy=calo_value("incident_energy"),
        energy_range_gev=lambda w: calo_energy_range(w.calo),
        seed=config["seed"],
        checkpoint="checkpoints/calorimeter/{calo}/forecast/member_{member}.pt",
    script:
        "../workflow_scripts/calo_forecast_member.py"


rule calo_forecast:
    input:
        unpack(calo_forecast_inputs),
    output:
        table=report(
            "results/calorimeter/{calo}/forecast.csv",
            caption="../report/calo_forecast.rst",
            category="Calorimeter",
            subcategory="Forecast",
        ),
        figure=report(
            "results/calorimeter/{calo}/figures/forecast.png",
            caption="../report/calo_forecast.rst",
            category="Calorimeter",
            subcategory="Forecast",
        ),
    log:
        "logs/calorimeter/{calo}/forecast.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/forecast/forecast.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        n_train=calo_forecast_training_size,
        quantiles=calo_forecast_quantiles,
        n_generated=lambda w: CALO_FORECAST["n_generated"],
        resamples=lambda w: CALO_FORECAST["resamples"],
        confidence_level=config["statistics"]["confidence_level"],
        seed=config["seed"],
    script:
        "../workflow_scripts/calo_forecast.py"

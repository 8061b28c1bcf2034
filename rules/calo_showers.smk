# A calorimeter study's showers (arXiv:2009.03796, Sec. III.2; CaloChallenge geometries), in
# chunks (simulated: one job per chunk; from files: one job per segment), and their observables;
# the gathered features say which showers are evaluation showers (held out of every fit).


rule simulate_showers:
    output:
        "results/calorimeter/{calo}/{sample}/showers/{k}.h5",
    log:
        "logs/calorimeter/{calo}/{sample}/simulate/{k}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/{sample}/simulate/{k}.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        kind=lambda w: calo_sample(w)["kind"],
        model=lambda w: calo_sample(w).get("model", {}),
        n=lambda w: SEGMENTS[w.calo][w.sample][int(w.k)].n,
        detector=calo_value("detector"),
        incident_energy=calo_value("incident_energy"),
        seed=config["seed"],
    script:
        "../workflow_scripts/simulate_showers.py"


rule shower_features:
    input:
        segment_file,
    output:
        "results/calorimeter/{calo}/{sample}/features/{k}.h5",
    log:
        "logs/calorimeter/{calo}/{sample}/features/{k}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/{sample}/features/{k}.tsv"
    conda:
        "../envs/cpu.yaml"
    params:
        segment=lambda w: SEGMENTS[w.calo][w.sample][int(w.k)].__dict__,
        detector=calo_value("detector"),
        energy_range_gev=lambda w: calo_energy_range(w.calo),
    script:
        "../workflow_scripts/shower_features.py"


rule gather_shower_features:
    input:
        feature_chunks,
    output:
        "results/calorimeter/{calo}/{sample}/features.h5",
    log:
        "logs/calorimeter/{calo}/{sample}/gather_features.log",
    conda:
        "../envs/cpu.yaml"
    params:
        evaluation=sample_evaluation,
        seed=config["seed"],
    script:
        "../workflow_scripts/gather_shower_features.py"

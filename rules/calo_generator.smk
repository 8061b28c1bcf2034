# A learned shower generator (`generator: {kind: trained}`): the model of `calorimeter.trained.model`
# (a conditional VAE, or conditional flow matching) trained on the first {ntrain} fitting showers of
# a calorimeter study's truth (a GPU job on a cluster; checkpointed, resumed after a kill or
# preemption), then the study's generated sample, one job per chunk, in the simulator's format.
# Runtime knobs (`runtime.threads.generator`, `runtime.checkpoint_every.generator`) are read by the script from the
# config, so that changing them retrains nothing.


rule train_shower_generator:
    input:
        showers=generator_training_files,
        truth="results/calorimeter/{calo}/truth/features.h5",
    output:
        "results/calorimeter/{calo}/generator/{ntrain}/model.pt",
    log:
        "logs/calorimeter/{calo}/train_generator/{ntrain}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/train_generator/{ntrain}.tsv"
    # it heads the longest chain of the calorimeter study (generation, observables, DCTR, judges,
    # summary): started first among the ready jobs, it does not leave that chain to the end
    priority: 10
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["generator"]
    resources:
        gpu=1,
    params:
        segments=generator_training_segments,
        training=generator_training_settings,
        seed=config["seed"],
        checkpoint="checkpoints/calorimeter/{calo}/generator/{ntrain}.pt",
    script:
        "../workflow_scripts/train_shower_generator.py"


rule generate_showers:
    input:
        study_generator_model,
    output:
        "results/calorimeter/{calo}/{sample}/learned/{k}.h5",
    log:
        "logs/calorimeter/{calo}/{sample}/generate/{k}.log",
    benchmark:
        "results/benchmarks/calorimeter/{calo}/{sample}/generate/{k}.tsv"
    conda:
        "../envs/gpu.yaml"
    params:
        n=lambda w: SEGMENTS[w.calo][w.sample][int(w.k)].n,
        detector=calo_value("detector"),
        incident_energy=calo_value("incident_energy"),
        seed=config["seed"],
    script:
        "../workflow_scripts/generate_showers.py"

# The DCTR paper's toys (arXiv:2009.03796, Sec. III.1): per toy a truth sample, a GAN trained on
# it, the stored reweighter fitted on the fitting events and the weights of the evaluation events,
# the judge (on evaluation truth, with its controls); then the summary table and Fig. 1. The null
# tests (null_{toy}: the generator is the toy's own truth) run through the same rules. Trainings
# ask for a GPU on a cluster and run on the CPU locally.


rule toy_truth:
    output:
        "results/dctr_toys/{toy}/truth.h5",
    log:
        "logs/dctr_toys/{toy}/truth.log",
    conda:
        "../envs/cpu.yaml"
    params:
        n_train=config["dctr_toys"]["n_train"],
        n_truth=config["dctr_toys"]["n_truth"],
        seed=config["seed"],
    script:
        "../workflow_scripts/toy_truth.py"


rule train_toy_gan:
    input:
        rules.toy_truth.output,
    output:
        "results/dctr_toys/{toy}/gan.h5",
    log:
        "logs/dctr_toys/{toy}/gan.log",
    benchmark:
        "results/benchmarks/dctr_toys/{toy}/gan.tsv"
    wildcard_constraints:
        toy="|".join(TOYS_REGISTRY),
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["dctr"]
    params:
        gan=toy_gan_settings,
        n_generated=config["dctr_toys"]["n_generated"],
        seed=config["seed"],
    script:
        "../workflow_scripts/train_toy_gan.py"


rule null_toy_generator:
    output:
        "results/dctr_toys/{toy}/gan.h5",
    log:
        "logs/dctr_toys/{toy}/gan.log",
    wildcard_constraints:
        toy="null_(" + "|".join(TOYS_REGISTRY) + ")",
    conda:
        "../envs/cpu.yaml"
    params:
        n_generated=config["dctr_toys"]["n_generated"],
        seed=config["seed"],
    script:
        "../workflow_scripts/null_toy_generator.py"


rule toy_dctr:
    input:
        truth=rules.toy_truth.output[0],
        gan="results/dctr_toys/{toy}/gan.h5",
    output:
        weights="results/dctr_toys/{toy}/weights.h5",
        model="results/dctr_toys/{toy}/reweighter.h5",
    log:
        "logs/dctr_toys/{toy}/dctr.log",
    benchmark:
        "results/benchmarks/dctr_toys/{toy}/dctr.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: config["runtime"]["threads"]["dctr"]
    params:
        reweighter=toy_reweighter,
        seed=config["seed"],
    script:
        "../workflow_scripts/toy_dctr.py"


rule toy_judge:
    input:
        truth=rules.toy_truth.output[0],
        gan="results/dctr_toys/{toy}/gan.h5",
        weights=rules.toy_dctr.output.weights,
    output:
        "results/dctr_toys/{toy}/judge.h5",
    log:
        "logs/dctr_toys/{toy}/judge.log",
    benchmark:
        "results/benchmarks/dctr_toys/{toy}/judge.tsv"
    conda:
        "../envs/cpu.yaml"
    threads: config["runtime"]["threads"]["dctr"]
    params:
        judge=JUDGE,
        seed=config["seed"],
    script:
        "../workflow_scripts/toy_judge.py"


rule toy_summary:
    input:
        unpack(toy_files),
    output:
        report(
            "results/dctr_toys/summary.csv",
            caption="../report/dctr_toys_summary.rst",
            category="DCTR toys",
        ),
    log:
        "logs/dctr_toys/summary.log",
    conda:
        "../envs/cpu.yaml"
    params:
        toys=TOYS,
        bins=config["dctr_toys"]["bins"],
        bootstrap_replicas=config["dctr"]["bootstrap_replicas"],
        seed=config["seed"],
    script:
        "../workflow_scripts/toy_summary.py"


rule plot_toys:
    input:
        unpack(toy_files),
    output:
        report(
            "results/dctr_toys/figures/fig1.png",
            caption="../report/dctr_toys_fig1.rst",
            category="DCTR toys",
        ),
    log:
        "logs/dctr_toys/plot_fig1.log",
    conda:
        "../envs/cpu.yaml"
    params:
        toys=TOYS,
    script:
        "../workflow_scripts/plot_toys.py"


rule plot_toy_marginals:
    input:
        truth=rules.toy_truth.output[0],
        gan="results/dctr_toys/{toy}/gan.h5",
        weights=rules.toy_dctr.output.weights,
        summary=rules.toy_summary.output[0],
    output:
        report(
            "results/dctr_toys/figures/marginals_{toy}.png",
            caption="../report/dctr_toys_marginals.rst",
            category="DCTR toys",
        ),
    log:
        "logs/dctr_toys/plot_marginals_{toy}.log",
    conda:
        "../envs/cpu.yaml"
    params:
        bins=config["dctr_toys"]["bins"],
    script:
        "../workflow_scripts/plot_toy_marginals.py"

# Configuration validation, wildcards, the stages' input and param functions (snakemake --lint
# wants functions apart from rules), and the final targets.
from pathlib import Path

from ganplify.core.approaches import APPROACHES, generators, trained
from ganplify.densities.toys import TOYS as TOYS_REGISTRY
from ganplify.core.config import (
    judge_settings,
    expand_training_sizes,
    reweighter_spec,
    selected_studies,
    study_n_samples,
    training_size_groups,
    validate_config,
)
from ganplify.jobs.calo_showers import (
    SAMPLES as CALO_SAMPLES,
    evaluation_sample,
    evaluation_split,
    plan_segments,
    sample_config,
    study_samples,
    study_settings,
    study_spectrum,
)
from ganplify.jobs.calo_generator import generator_training, training_segments

# Fail before any job is planned: a wrong key costs a second, not a cluster allocation.
validate_config(
    config, schema_path=Path(workflow.basedir) / "schemas" / "config.schema.yaml"
)
#: Studies run at several training sizes: base study -> [(size study, n_train), ...]. Each size is
#: a study of its own from here on (the first keeps the base's name and results folder).
SIZE_GROUPS = training_size_groups(config)
config.update(expand_training_sizes(config))


localrules:
    gather,
    amplification_vs_ntrain,
    plot_amplification_vs_ntrain,
    unpack_run,
    gather_shower_features,
    calo_summary,
    calo_amplification,
    plot_calorimeter,
    toy_summary,
    plot_toys,
    plot_toy_marginals,
    fit_summary,
    plot_overview,
    plot_quantile_errors,
    plot_training,
    saturation,
    forecast,
    calo_forecast,
    export_config,


wildcard_constraints:
    study="[a-z][a-z0-9_]*",
    i=r"\d+",
    toy="(null_)?(" + "|".join(TOYS_REGISTRY) + ")",
    calo="[a-z][a-z0-9_]*",
    sample="|".join(CALO_SAMPLES),
    k=r"\d+",
    classifier="hl|ll",
    approach="|".join(a for a in APPROACHES if APPROACHES[a].generator),
    block=r"\d+",
    ntrain=r"\d+",


PARTS = config["parts"]
STUDIES = selected_studies(config) if "amplification" in PARTS else []
#: The toys a run computes, then their null tests (null_{toy}: the generator is the toy's truth).
TOYS = (
    list(config["dctr_toys"]["run"])
    + [f"null_{toy}" for toy in config["dctr_toys"]["null_tests"]]
    if "dctr_toys" in PARTS
    else []
)
#: The calorimeter studies a run computes, each with its settings (its own keys over the shared
#: ones of `calorimeter`).
CALO_RUN = list(config["calorimeter"]["run"]) if "calorimeter" in PARTS else []
CALO = {name: study_settings(config["calorimeter"], name) for name in CALO_RUN}
#: Each study's samples' segments (one observables job each). Shower files given in the config
#: are checked here against the study's geometry: a bad file stops the study before any job.
SEGMENTS = {
    name: {
        sample: plan_segments(name, sample, CALO[name])
        for sample in study_samples(CALO[name])
    }
    for name in CALO_RUN
}
#: The learned generators' amplification runs: (study, n_train) (calorimeter.amplification).
AMPLIFICATION_RUNS = [
    (calo, int(n))
    for calo in config["calorimeter"]["amplification"]["run"]
    if calo in CALO_RUN
    for n in config["calorimeter"]["amplification"]["n_train"]
]
CALO_FIGURES = ["fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8"]
RUN_APPROACHES = list(config["approaches"])
GENERATORS = generators(RUN_APPROACHES)
#: The generators the study trains (the others reweight their events).
TRAINED = trained(RUN_APPROACHES)
TRAINED_PATTERN = "|".join(a for a in APPROACHES if APPROACHES[a].trained)
REWEIGHTED_PATTERN = "|".join(a for a in APPROACHES if APPROACHES[a].reweights)


def study_value(key):
    """A param: one value of the job's study. Params hold only what a job uses, because
    Snakemake reruns a job whose params change."""
    return lambda wildcards: config["studies"][wildcards.study][key]


def reweighter(task, **kw):
    """A param: the one resolved reweighter of a task (core.config.reweighter_spec)."""
    return reweighter_spec(config, task, **kw)


#: The judge of every weight set (ganplify.dctr.judge.JudgeConfig): dctr.judge.
JUDGE = judge_settings(config["dctr"])
#: The GAN trainings' settings: gan.training and the arithmetic they run in (advanced).
GAN_TRAINING = config["gan"]["training"] | {
    "matmul_precision": config["advanced"]["matmul_precision"]
}


def run_files(study, approach):
    """Per-run output files of one approach of one study, in run order."""
    return expand(
        "results/{study}/{folder}/{i}.h5",
        study=study,
        folder=APPROACHES[approach].folder,
        i=range(study_n_samples(config, study)),
    )


# -- rules/gan.smk ------------------------------------------------------------------------------


def block_size(approach):
    """Runs per training block: `advanced.gan_pack` GANs, an ensemble counting all its members."""
    return max(
        1, config["advanced"]["gan_pack"] // APPROACHES[approach].members(config["gan"])
    )


def blocks(study, approach):
    """The runs of each block of `approach` in `study`, in order."""
    n, size = study_n_samples(config, study), block_size(approach)
    return [list(range(lo, min(lo + size, n))) for lo in range(0, n, size)]


def block_runs(wildcards):
    return blocks(wildcards.study, wildcards.approach)[int(wildcards.block)]


def block_run_files(wildcards):
    """The per-run files a block feeds (for its log and fault injection)."""
    folder = APPROACHES[wildcards.approach].folder
    return [f"results/{wildcards.study}/{folder}/{i}.h5" for i in block_runs(wildcards)]


def block_samples(wildcards):
    return [f"results/{wildcards.study}/samples/{i}.h5" for i in block_runs(wildcards)]


def block_of_run(wildcards):
    """The block file that holds run `i`."""
    block = int(wildcards.i) // block_size(wildcards.approach)
    return f"results/{wildcards.study}/blocks/{wildcards.approach}/{block}.h5"


# -- rules/dctr_amplification.smk ---------------------------------------------------------------


def reweighted_generator_file(wildcards):
    """The run file of the generator whose events `approach` reweights."""
    base = APPROACHES[wildcards.approach].reweights
    return f"results/{wildcards.study}/{APPROACHES[base].folder}/{wildcards.i}.h5"


# -- rules/gather.smk ---------------------------------------------------------------------------


def gather_inputs(wildcards):
    return {a: run_files(wildcards.study, a) for a in RUN_APPROACHES}


def size_study_tables(wildcards):
    """The equivalence tables of every training size of a study."""
    return [
        f"results/{name}/equivalent_events.csv"
        for name, _ in SIZE_GROUPS[wildcards.study]
    ]


# -- rules/forecast.smk -------------------------------------------------------------------------

#: The forecast's settings (docs/science.md §1.7); a config without the section forecasts nothing.
FORECAST = config.get("forecast") or {}
#: The studies whose GAN's amplification is forecast: `forecast.studies` among those run.
FORECAST_STUDIES = [s for s in FORECAST.get("studies", []) if s in STUDIES]


def forecast_blocks(study):
    """The runs of each forecast block of `study`: the first `forecast.runs` runs (at most the
    study's), `advanced.gan_pack` GANs per block counting every bootstrap member."""
    n = min(int(FORECAST["runs"]), study_n_samples(config, study))
    size = max(1, config["advanced"]["gan_pack"] // int(FORECAST["members"]))
    return [list(range(lo, min(lo + size, n))) for lo in range(0, n, size)]


def forecast_block_samples(wildcards):
    runs = forecast_blocks(wildcards.study)[int(wildcards.block)]
    return [f"results/{wildcards.study}/samples/{i}.h5" for i in runs]


def forecast_inputs(wildcards):
    """The study's forecast blocks, and its gathered errors where a GAN measures the truth."""
    blocks = range(len(forecast_blocks(wildcards.study)))
    out = {
        "blocks": [f"results/{wildcards.study}/forecast/blocks/{b}.h5" for b in blocks]
    }
    if "gan" in RUN_APPROACHES:
        out["errors"] = f"results/{wildcards.study}/quantile_errors.h5"
    return out


# -- rules/plots.smk ----------------------------------------------------------------------------


def overview_inputs(wildcards):
    """Run 0 of every approach that has something to draw in Fig. 1 (reweighted events are the
    same events: not drawn again)."""
    drawn = [a for a in RUN_APPROACHES if not APPROACHES[a].reweights]
    return {a: run_files(wildcards.study, a)[0] for a in drawn} | {
        "sample": f"results/{wildcards.study}/samples/0.h5"
    }


# -- rules/dctr_toys.smk ------------------------------------------------------------------------


def toy_gan_settings(wildcards):
    """The toy GAN's settings: the shared ones plus the toy's layers, latent size and
    iterations."""
    toys = config["dctr_toys"]
    own = ("g_hidden", "d_hidden", "latent_dim", "iterations")
    return toys["gan"] | {key: toys[key][wildcards.toy] for key in own}


def toy_reweighter(wildcards):
    """The reweighter of a toy (a null test's is its base toy's)."""
    return reweighter("toy", toy=wildcards.toy.removeprefix("null_"))


TOY_STAGES = ("truth", "gan", "weights", "judge")


def toy_files(wildcards):
    """Every selected toy's files, named {toy}_{truth,gan,weights,judge}."""
    return {
        f"{toy}_{stage}": f"results/dctr_toys/{toy}/{stage}.h5"
        for toy in TOYS
        for stage in TOY_STAGES
    }


# -- rules/calorimeter.smk ----------------------------------------------------------------------


def calo_value(key):
    """A param: one setting of the job's calorimeter study."""
    return lambda wildcards: CALO[wildcards.calo].get(key)


def calo_sample(wildcards):
    """The config section of the job's physical sample (calo_showers.SAMPLES)."""
    return sample_config(CALO[wildcards.calo], wildcards.sample)


def sample_evaluation(wildcards):
    """Which of the job's sample's showers are evaluation showers: all (an evaluation sample),
    none (a fitting sample with an evaluation sample of its own) or the share split off it.
    """
    if wildcards.sample.endswith("_eval"):
        return "all"
    share = evaluation_split(CALO[wildcards.calo], wildcards.sample)
    return "none" if share is None else share


def calo_energy_range(calo):
    """The study's incident-energy range (GeV): showers outside it are an error."""
    return list(study_spectrum(CALO[calo]).range_gev)


def features_file(role, part):
    """Input function: the features file holding the ``part`` ("fit" or "evaluation") showers
    of ``role`` ("truth" or "generated")."""

    def f(wildcards):
        sample = (
            role if part == "fit" else evaluation_sample(CALO[wildcards.calo], role)
        )
        return f"results/calorimeter/{wildcards.calo}/{sample}/features.h5"

    return f


def part_segments(wildcards, role, part):
    """The segments (as dicts) of the physical sample holding ``role``'s ``part`` showers."""
    sample = role if part == "fit" else evaluation_sample(CALO[wildcards.calo], role)
    return [s.__dict__ for s in SEGMENTS[wildcards.calo][sample]]


def part_shower_files(*parts):
    """Input function: the shower files of these (role, part) pairs (the low-level networks read
    the showers)."""

    def f(wildcards):
        out = set()
        for role, part in parts:
            out |= {s["path"] for s in part_segments(wildcards, role, part)}
        return sorted(out)

    return f


def generator_training_segments(wildcards):
    """A trained generator's training sample: the truth's segments as [path, format, start,
    stop] (the job keeps the first {ntrain} of its fitting showers)."""
    return [
        [s.path, s.format, s.start, s.stop] for s in SEGMENTS[wildcards.calo]["truth"]
    ]


def generator_training_files(wildcards):
    return sorted({s[0] for s in generator_training_segments(wildcards)})


def study_generator_model(wildcards):
    """The trained generator of a study's generated samples: on n_train truth showers (all the
    fitting ones by default)."""
    settings = CALO[wildcards.calo]
    gen = settings["generator"]
    n_truth = sum(s.n for s in SEGMENTS[wildcards.calo]["truth"])
    share = evaluation_split(settings, "truth")
    n_fit = n_truth - (0 if share is None else int(round(share * n_truth)))
    n = gen.get("n_train", n_fit)
    return f"results/calorimeter/{wildcards.calo}/generator/{n}/model.pt"


def generator_training_settings(wildcards):
    """The trained generator's settings: calorimeter.trained, the study generator's over them."""
    return generator_training(
        config["calorimeter"]["trained"], CALO[wildcards.calo]["generator"]
    )


def segment_file(wildcards):
    """The shower file of a segment: a simulated chunk (made by simulate_showers) or a user file."""
    return SEGMENTS[wildcards.calo][wildcards.sample][int(wildcards.k)].path


def feature_chunks(wildcards):
    return expand(
        "results/calorimeter/{calo}/{sample}/features/{k}.h5",
        calo=wildcards.calo,
        sample=wildcards.sample,
        k=range(len(SEGMENTS[wildcards.calo][wildcards.sample])),
    )


def calo_weight_files(wildcards):
    """Weights file of each of a study's classifiers, named weights_{name}."""
    return {
        f"weights_{name}": f"results/calorimeter/{wildcards.calo}/weights_{name}.h5"
        for name in CALO[wildcards.calo]["classifiers"]
    }


#: The file of each judge (calorimeter.judges) of a classifier's weights: the boosted trees on the
#: HL inputs, or a fresh low-level network.
JUDGE_PREFIX = {"hl": "judge", "ll": "ll_judge"}


def calo_judge_files(wildcards):
    """The judges' files of each of a study's classifiers, named {judge}_{name} (judge_hl,
    ll_judge_hl, ...)."""
    study, prefix = CALO[wildcards.calo], JUDGE_PREFIX
    return {
        f"{prefix[judge]}_{name}": f"results/calorimeter/{wildcards.calo}/{prefix[judge]}_{name}.h5"
        for name in study["classifiers"]
        for judge in study["judges"]
    }


def calo_amplification_runs(wildcards):
    return [
        f"results/calorimeter/{calo}/amplification/{n}.h5"
        for calo, n in AMPLIFICATION_RUNS
    ]


# -- rules/calo_forecast.smk ---------------------------------------------------------------------

#: calorimeter.forecast: the studies whose generator ensemble is forecast, among those run.
CALO_FORECAST = config["calorimeter"].get("forecast") or {}
CALO_FORECAST_RUN = [c for c in CALO_FORECAST.get("run", []) if c in CALO_RUN]


def calo_forecast_size(calo):
    """A learned ensemble's training size: its n_train, or the whole truth sample."""
    ens = CALO_FORECAST["ensembles"][calo]
    return int(ens.get("n_train", sum(s.n for s in SEGMENTS[calo]["truth"])))


def calo_forecast_measured(calo):
    """Whether the truth checks the forecast: a learned ensemble whose generator
    calorimeter.amplification measures at the same training size."""
    ens = CALO_FORECAST["ensembles"][calo]
    return (
        ens["kind"] == "trained"
        and (calo, calo_forecast_size(calo)) in AMPLIFICATION_RUNS
    )


def calo_forecast_member(wildcards):
    """What member {member} of the study's ensemble is made of (only that member's settings)."""
    calo, ens = wildcards.calo, CALO_FORECAST["ensembles"][wildcards.calo]
    if ens["kind"] == "file":
        return {"kind": "file"} | dict(ens["members"][int(wildcards.member)])
    return {
        "kind": "trained",
        "n_showers": ens["n_showers"],
        "segments": training_segments(
            SEGMENTS[calo]["truth"], calo_forecast_size(calo), calo
        ),
        "training": generator_training(
            config["calorimeter"]["trained"], CALO[calo]["generator"]
        ),
    }


def calo_forecast_member_files(wildcards):
    member = calo_forecast_member(wildcards)
    if member["kind"] == "file":
        return list(member["paths"])
    return sorted({s[0] for s in member["segments"]})


def calo_forecast_training_size(wildcards):
    """The training sample's size: the learned ensemble's, the whole truth for files (None)."""
    ens = CALO_FORECAST["ensembles"][wildcards.calo]
    return calo_forecast_size(wildcards.calo) if ens["kind"] == "trained" else None


def calo_forecast_quantiles(wildcards):
    """Cells per observable: the measurement's where the truth checks the forecast."""
    if calo_forecast_measured(wildcards.calo):
        return config["calorimeter"]["amplification"]["quantiles"]
    return CALO_FORECAST["quantiles"]


def calo_forecast_inputs(wildcards):
    calo, ens = wildcards.calo, CALO_FORECAST["ensembles"][wildcards.calo]
    b = len(ens["members"]) if ens["kind"] == "file" else int(ens["members"])
    out = {
        "training": f"results/calorimeter/{calo}/truth/features.h5",
        "members": [
            f"results/calorimeter/{calo}/forecast/members/{m}.h5" for m in range(b)
        ],
    }
    if calo_forecast_measured(calo):
        folder = f"results/calorimeter/{calo}/amplification"
        out["reference"] = f"{folder}/reference.h5"
        out["measured"] = f"{folder}/{calo_forecast_size(calo)}.h5"
    return out


# -- final targets ------------------------------------------------------------------------------


def final_outputs():
    """Everything `snakemake` builds by default: tables, figures and the exported config."""
    out = ["results/config.yaml"]
    for calo in CALO_RUN:
        out += [
            f"results/calorimeter/{calo}/{table}.csv"
            for table in (
                "dctr_summary",
                "classifier_summary",
                "energy_bins",
                "challenge_metrics",
            )
        ]
        out += expand(
            "results/calorimeter/{calo}/figures/{fig}.png", calo=calo, fig=CALO_FIGURES
        )
    if AMPLIFICATION_RUNS:
        out += [
            "results/calorimeter/calo_amplification.csv",
            "results/calorimeter/figures/calo_amplification.png",
        ]
    if TOYS:
        out += ["results/dctr_toys/summary.csv", "results/dctr_toys/figures/fig1.png"]
        out += expand("results/dctr_toys/figures/marginals_{toy}.png", toy=TOYS)
    for study in STUDIES:
        out += [
            f"results/{study}/quantile_errors.h5",
            f"results/{study}/equivalent_events.csv",
        ]
        out += expand(
            "results/{study}/figures/{fig}.{ext}",
            study=study,
            fig=["overview", "quantile_errors"],
            ext=["png", "pdf"],
        )
        if "fit" in RUN_APPROACHES:
            out.append(f"results/{study}/fit_summary.csv")
        if study in SIZE_GROUPS:
            out += [
                f"results/{study}/amplification_vs_ntrain.csv",
                f"results/{study}/figures/amplification_vs_ntrain.png",
            ]
        if GENERATORS:
            out.append(f"results/{study}/saturation.csv")
            out += expand(
                "results/{study}/figures/training_{approach}.png",
                study=study,
                approach=TRAINED,
            )
    for study in FORECAST_STUDIES:
        out += [
            f"results/{study}/forecast.csv",
            f"results/{study}/figures/forecast.png",
        ]
    for calo in CALO_FORECAST_RUN:
        out += [
            f"results/calorimeter/{calo}/forecast.csv",
            f"results/calorimeter/{calo}/figures/forecast.png",
        ]
    return out

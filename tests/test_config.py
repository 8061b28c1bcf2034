import copy

import pytest
from conftest import REPO

from ganplify.core.config import (
    REWEIGHTER_TASKS,
    ConfigError,
    calibration_of,
    classifier_settings,
    expand_training_sizes,
    judge_settings,
    load_config,
    merge,
    reweighter_spec,
    study_n_samples,
    training_size_groups,
    validate_config,
)
from ganplify.dctr.classifiers import classifier_config
from ganplify.dctr.judge import JudgeConfig
from ganplify.dctr.reweighter import ReweighterSpec

#: Every preset as the workflow merges it: config.yaml first, then each --configfile.
PRESETS = {
    "config.yaml": ["config.yaml"],
    **{
        f"config/{p.name}": ["config.yaml", f"config/{p.name}"]
        for p in sorted((REPO / "config").glob("*.yaml"))
    },
    "tests/tiny.yaml": ["config.yaml", "config/demo.yaml", "tests/tiny.yaml"],
    "tests/slurm.yaml": ["config.yaml", "config/demo.yaml", "tests/tiny.yaml", "tests/slurm.yaml"],
}


@pytest.fixture
def config():
    return load_config(REPO / "config.yaml")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_valid(preset):
    assert len(PRESETS) >= 5  # config.yaml, demo, paper-literal, and the tests' two
    validate_config(load_config(*(REPO / p for p in PRESETS[preset])))


def test_merge_is_snakemakes_configfile_merge():
    from snakemake.utils import update_config

    base = {"a": 1, "gan": {"training": {"lr": 1, "epochs": 3}, "n": [1, 2]}, "s": {"x": {}}}
    over = {"gan": {"training": {"lr": 2}, "n": [5]}, "s": {"x": {"y": 1}}, "b": 2}
    expected = copy.deepcopy(base)
    update_config(expected, over)
    assert merge(base, over) == expected
    assert base["gan"]["training"]["lr"] == 1  # inputs untouched


def test_full_config_is_the_papers_study(config):
    study = config["studies"]["camelback_1d"]
    # The paper's study is the first training size; 300 and 1000 go beyond it (issue 15).
    assert config["n_samples"] == 100 and study["n_train"] == [100, 300, 1000]
    assert study["quantiles"] == [10, 20, 50]
    assert study["reference_sizes"][0] == 100 and study["reference_sizes"][-1] == 1000
    assert study_n_samples(config, "camelback_1d") == 100


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda c: c.update(n_samples="ten"), "'n_samples': 'ten' is not of type 'integer'"),
        (lambda c: c.update(n_samples=-3), "'n_samples': -3 is less than the minimum of 1"),
        (lambda c: c.update(n_sample=3), "unknown config key(s) ['n_sample']"),
        (
            lambda c: c["studies"]["camelback_1d"].update(quantiles=[10, 1]),
            "'studies.camelback_1d.quantiles[1]'",
        ),
        (lambda c: c["statistics"].update(confidence_level=1.5), "'statistics.confidence_level'"),
        (lambda c: c.update(approaches=["fit", "gann"]), "'approaches[1]'"),
        (
            lambda c: c["studies"]["camelback_1d"]["truth"].update(kind="donut"),
            "'studies.camelback_1d.truth.kind'",
        ),
        (lambda c: c["dctr"]["classifier"].update(kind="forest"), "'dctr.classifier.kind'"),
        (lambda c: c["calorimeter"]["hl"].update(kind="xgb"), "'calorimeter.hl.kind'"),
        (
            lambda c: c["dctr"]["amplification"]["classifier"].pop("kind"),
            "'dctr.amplification.classifier'",
        ),
        (lambda c: c["advanced"]["boosted"].update(max_bins=300), "'advanced.boosted.max_bins'"),
        (lambda c: c["advanced"]["boosted"].update(repeats=0), "'advanced.boosted.repeats'"),
        (lambda c: c["advanced"]["boosted"].update(repeats="often"), "'advanced.boosted.repeats'"),
        (lambda c: c["advanced"]["boosted"].update(trees="last"), "'advanced.boosted.trees'"),
        (lambda c: c["dctr"]["judge"].update(trees="most"), "'dctr.judge.trees'"),
        (lambda c: c["dctr"]["judge"].update(calibration="none"), "'dctr.judge'"),
        (lambda c: c["dctr"].pop("judge"), "'judge' is a required property"),
        (lambda c: c["dctr"]["classifier"].update(repeats=1.5), "'dctr.classifier.repeats'"),
        (lambda c: c["dctr"]["amplification"].update(cap=0), "'dctr.amplification.cap'"),
        (lambda c: c["advanced"]["boosted"].update(n_trees=3), "'advanced.boosted'"),
        (lambda c: c["runtime"]["threads"].update(gan=0), "'runtime.threads.gan'"),
        (lambda c: c["advanced"].update(gan_pack=0), "'advanced.gan_pack'"),
        (lambda c: c["gan"].update(threads=2), "unknown config key(s) ['threads'] in 'gan'"),
        (lambda c: c["dctr"]["weights"].update(rake_bins=1), "'dctr.weights.rake_bins'"),
        (
            lambda c: c["dctr"]["weights"].update(rake_iterations=0),
            "'dctr.weights.rake_iterations'",
        ),
        (
            lambda c: c["advanced"]["boosted"].update(calibration="platt"),
            "'advanced.boosted.calibration'",
        ),
        (
            lambda c: c["calorimeter"]["studies"]["ild"].update(
                evaluation={"truth": {"kind": "gan"}}
            ),
            "'calorimeter.studies.ild.evaluation.truth'",
        ),
        (
            lambda c: c["calorimeter"]["studies"]["ild"].update(
                evaluation={"truth": {"kind": "fastsim", "n_showers": 100}}
            ),
            "'calorimeter.studies.ild.evaluation.truth.kind'",
        ),
        (
            lambda c: c["calorimeter"]["studies"]["ild"].update(
                evaluation={"generator": {"kind": "trained", "n_showers": 100}}
            ),
            "'calorimeter.studies.ild.evaluation.generator.kind'",
        ),
        (
            lambda c: c["calorimeter"].update(judge=[]),
            "unknown config key(s) ['judge'] in 'calorimeter'",
        ),
        (
            lambda c: c["dctr"]["judge"].update(patience=3),
            "unknown config key(s) ['patience'] in 'dctr.judge'",
        ),
    ],
)
def test_bad_values_name_their_key(config, mutate, fragment):
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert fragment in str(err.value)


def test_each_classifier_kind_has_its_own_settings_and_calibration(config):
    config["dctr"]["calibration"] = "temperature"
    config["advanced"]["boosted"]["calibration"] = "isotonic"
    hl = config["calorimeter"]["hl"] | {"kind": "boosted"}
    trees = classifier_settings(config, hl)
    # The trees' settings only: none of the section's network settings, no calibration (the
    # classifier reads no such key; the cross-fit gets it apart).
    assert trees == {"kind": "boosted"} | {
        k: v for k, v in config["advanced"]["boosted"].items() if k != "calibration"
    }
    assert calibration_of(config, hl) == "isotonic"
    mlp = hl | {"kind": "mlp"}
    assert classifier_settings(config, mlp, hidden=[8]) == mlp | {"hidden": [8]}
    assert calibration_of(config, mlp) == "temperature"
    classifier_config(trees)  # accepted as it is
    # the judges: dctr.judge alone, nothing inherited from the reweighter's trees
    config["advanced"]["boosted"]["min_samples_leaf"] = 77
    judge = JudgeConfig.from_config(judge_settings(config["dctr"]))
    assert judge.min_samples_leaf == config["dctr"]["judge"]["min_samples_leaf"] != 77
    assert judge.boosted().early_stopping is False


@pytest.mark.parametrize("task", REWEIGHTER_TASKS)
def test_every_task_gets_one_resolved_reweighter(config, task):
    """One resolved spec per task, read as the reweighter reads it; the low-level and the
    amplification reweighters never rake."""
    config["dctr"]["weights"]["rake_bins"] = 5
    spec = ReweighterSpec.from_mapping(reweighter_spec(config, task, toy="circle_8"))
    assert spec.folds >= 2 and spec.classifier["kind"] in ("boosted", "mlp", "lowlevel")
    assert spec.weights.rake_bins == (5 if task in ("toy", "calo_hl") else 0)
    if task == "calo_ll":
        assert spec.weights.cap == config["calorimeter"]["ll"]["cap"]
        assert spec.calibration == config["calorimeter"]["ll"]["calibration"]
    with pytest.raises(ValueError, match="unknown reweighting task"):
        reweighter_spec(config, "nope")


def test_all_problems_are_reported_at_once(config):
    config["n_samples"] = "ten"
    config["seed"] = -1
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "'n_samples'" in str(err.value) and "'seed'" in str(err.value)


def test_training_size_lists_become_one_study_per_size(config):
    config["studies_to_run"] = ["ring_2d", "camelback_1d"]
    out = expand_training_sizes(config)
    assert out["studies_to_run"] == [
        "ring_2d",
        "camelback_1d",
        "camelback_1d_n300",
        "camelback_1d_n1000",
    ]
    assert [out["studies"][s]["n_train"] for s in out["studies_to_run"][1:]] == [100, 300, 1000]
    # Identical but for n_train; the input is left alone.
    first, big = out["studies"]["camelback_1d"], out["studies"]["camelback_1d_n1000"]
    assert {k: v for k, v in first.items() if k != "n_train"} == {
        k: v for k, v in big.items() if k != "n_train"
    }
    assert config["studies"]["camelback_1d"]["n_train"] == [100, 300, 1000]
    assert training_size_groups(config) == {
        "camelback_1d": [
            ("camelback_1d", 100),
            ("camelback_1d_n300", 300),
            ("camelback_1d_n1000", 1000),
        ]
    }
    validate_config(out)


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda c: c.update(approaches=["sample", "gan_dctr"]), "gan_dctr"),
        (lambda c: c.update(approaches=["sample", "gan", "ensemble_dctr"]), "ensemble_dctr"),
        (lambda c: c["studies"]["camelback_1d"].update(n_train=[100, 100]), "n_train"),
        (lambda c: c["studies"]["camelback_1d"].update(n_train=[]), "n_train"),
    ],
)
def test_reweighting_and_size_lists_are_checked(config, mutate, fragment):
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert fragment in str(err.value)


def test_the_schema_knows_exactly_the_registered_toys():
    import yaml

    from ganplify.densities.toys import TOYS

    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
    assert schema["$defs"]["toy"]["enum"] == list(TOYS)


def _settings_classes():
    from ganplify.calo.learned import VAEConfig
    from ganplify.dctr.boosted import BoostedConfig
    from ganplify.dctr.classifier import ClassifierConfig
    from ganplify.dctr.lowlevel import LowLevelConfig
    from ganplify.dctr.weights import WeightSettings
    from ganplify.gan.models import GanArchitecture
    from ganplify.gan.toy import ToyGanConfig
    from ganplify.gan.training import TrainingConfig

    return [
        (WeightSettings, ("dctr", "weights")),
        (BoostedConfig, ("advanced", "boosted")),
        (ClassifierConfig, ("dctr", "classifier")),
        (JudgeConfig, ("dctr", "judge")),
        (ToyGanConfig, ("dctr_toys", "gan")),
        (LowLevelConfig, ("calorimeter", "ll")),
        (VAEConfig, ("calorimeter", "trained")),
        (TrainingConfig, ("gan", "training")),
        (GanArchitecture, ("gan", "architecture")),
    ]


@pytest.mark.parametrize(
    "cls, section", _settings_classes(), ids=lambda v: getattr(v, "__name__", "")
)
def test_one_default_per_key(cls, section):
    """A settings dataclass's default and config.yaml's value of the same key agree: one default
    per key, whether a study runs from the config or a user calls the science API."""
    import dataclasses

    values = load_config(REPO / "config.yaml")
    for key in section:
        values = values[key]
    for f in dataclasses.fields(cls):
        if f.name not in values or f.default is dataclasses.MISSING:
            continue
        default, value = f.default, values[f.name]
        if isinstance(default, tuple):
            value = tuple(value)
        assert default == value, f"{cls.__name__}.{f.name}: {default!r}, config.yaml {value!r}"


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda c: c["forecast"].update(members=1), "'forecast.members': 1 is less than"),
        (lambda c: c["forecast"].update(runs=0), "'forecast.runs'"),
        (lambda c: c["forecast"].update(n_generated=10), "'forecast.n_generated'"),
        (lambda c: c["forecast"].update(resamples="many"), "'forecast.resamples'"),
        (lambda c: c["forecast"].update(member=3), "unknown config key(s) ['member']"),
        (lambda c: c["forecast"].pop("studies"), "'studies' is a required property"),
        # a study at one of its sizes, by the size's own name
        (lambda c: c["forecast"].update(studies=["camelback_1d_n500"]), "'forecast.studies[0]'"),
        (
            lambda c: c["studies"]["ring_2d"].update(n_train=105),
            "'forecast.studies[3]': study 'ring_2d' has n_train 105",
        ),
        (
            lambda c: c["calorimeter"]["forecast"].update(run=["dataset2"]),
            "'calorimeter.forecast.run[0]': study 'dataset2' has no entry",
        ),
        (
            lambda c: c["calorimeter"]["forecast"].update(run=["nowhere"]),
            "'calorimeter.forecast.run[0]': no calorimeter study 'nowhere'",
        ),
        (
            lambda c: c["calorimeter"]["forecast"]["ensembles"]["dataset1_photons"].update(
                n_train=10**6
            ),
            "'calorimeter.forecast.ensembles.dataset1_photons.n_train'",
        ),
        (
            lambda c: c["calorimeter"]["forecast"]["ensembles"].update(
                ild={"kind": "file", "members": [{"paths": ["a.h5"]}]}
            ),
            "'calorimeter.forecast.ensembles.ild'",
        ),
        (
            lambda c: c["calorimeter"]["forecast"]["ensembles"].update(
                dataset9={"kind": "trained", "members": 2, "n_showers": 100}
            ),
            "'calorimeter.forecast.ensembles.dataset9': no calorimeter study",
        ),
        (lambda c: c["calorimeter"]["forecast"].update(quantiles=1), "calorimeter.forecast"),
    ],
)
def test_bad_forecast_values_name_their_key(config, mutate, fragment):
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert fragment in str(err.value)


def test_a_config_without_the_forecast_sections_is_valid(config):
    config.pop("forecast")
    config["calorimeter"].pop("forecast")
    validate_config(config)

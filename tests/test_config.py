import copy

import pytest
import yaml
from conftest import REPO

from ganplify.config import ConfigError, study_n_samples, validate_config


@pytest.fixture
def config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_shipped_configs_are_valid(config):
    validate_config(config)
    demo = yaml.safe_load((REPO / "config/demo.yaml").read_text())
    merged = copy.deepcopy(config)
    merged["n_samples"] = demo["n_samples"]
    merged["statistics"].update(demo["statistics"])
    validate_config(merged)


def test_full_config_is_the_papers_study(config):
    study = config["studies"]["camelback_1d"]
    assert config["n_samples"] == 100 and study["n_train"] == 100
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
    ],
)
def test_bad_values_name_their_key(config, mutate, fragment):
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert fragment in str(err.value)


def test_all_problems_are_reported_at_once(config):
    config["n_samples"] = "ten"
    config["seed"] = -1
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "'n_samples'" in str(err.value) and "'seed'" in str(err.value)

"""The conda environments pin what pyproject.toml pins."""

import re
import tomllib

import yaml
from conftest import REPO


def _pins(lines):
    return dict(
        re.match(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)$", x).groups()
        for x in lines
        if re.match(r"^[A-Za-z0-9_.\-\[\]]+==", x)
    )


def test_envs_agree_with_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {k.split("[")[0]: v for k, v in _pins(project["dependencies"]).items()}
    for env in ("cpu", "gpu"):
        spec = yaml.safe_load((REPO / f"envs/{env}.yaml").read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
        env_pins = _pins(pip)
        assert env_pins, env
        for name, version in env_pins.items():
            assert pins.get(name) == version, (env, name, version, pins.get(name))
        assert any(
            d == f"python={project['requires-python'].lstrip('>=')}"
            for d in spec["dependencies"]
            if isinstance(d, str)
        ), env
    assert "torch" in _pins(
        next(
            d["pip"]
            for d in yaml.safe_load((REPO / "envs/gpu.yaml").read_text())["dependencies"]
            if isinstance(d, dict)
        )
    )


def test_every_rule_names_an_env():
    for smk in (REPO / "rules").glob("*.smk"):
        text = smk.read_text()
        n_rules = len(re.findall(r"^rule \w+:", text, flags=re.M))
        assert text.count("conda:") == n_rules, smk.name

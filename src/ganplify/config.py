"""Study configuration: validation against the JSON schema, with errors that name the key.

The workflow calls :func:`validate_config` before it plans any job, so a typo costs a second, not a
cluster allocation.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

#: The schema that ships with the workflow (``schemas/config.schema.yaml`` at the repository root).
DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


def _key_path(path) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
        where = "" if key == "<top level>" else f" in {key!r}"
        return f"unknown config key(s) {extra}{where}; allowed: {allowed}"
    if error.validator == "required":
        return f"config key {key!r}: {error.message}"
    return f"config key {key!r}: {error.message}"


def validate_config(config: dict, schema_path: str | Path = DEFAULT_SCHEMA) -> dict:
    """Check ``config`` against the schema and the study's semantic rules.

    Raises :class:`ConfigError` listing every problem found (one per line), each naming its key.
    Returns ``config`` unchanged when it is valid.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(e) for e in errors]
    if not problems:
        problems = _semantic_problems(config)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return config


def _semantic_problems(config: dict) -> list[str]:
    """Rules that involve several keys at once (the schema checks keys one by one)."""
    problems = []
    for j, name in enumerate(config.get("studies_to_run", [])):
        if name not in config["studies"]:
            problems.append(
                f"config key 'studies_to_run[{j}]': no study {name!r} "
                f"(defined: {', '.join(config['studies'])})"
            )
    for name, study in config["studies"].items():
        truth = study["truth"]
        if truth["kind"] == "shell" and "dim" not in truth:
            problems.append(f"config key 'studies.{name}.truth': kind 'shell' needs 'dim'")
        if truth["kind"] == "camelback" and {"dim", "r_mean", "r_sigma"} & set(truth):
            problems.append(
                f"config key 'studies.{name}.truth': kind 'camelback' takes mu and sigma only"
            )
    if {"gan", "ensemble"} & set(config["approaches"]):
        batch = config["gan"]["training"]["batch_size"]
        for name, study in config["studies"].items():
            if study["n_train"] % batch:
                problems.append(
                    f"config key 'studies.{name}.n_train': {study['n_train']} is not a multiple "
                    f"of 'gan.training.batch_size' ({batch}); every epoch uses whole batches"
                )
    return problems


def selected_studies(config: dict) -> list[str]:
    """The studies a run computes: ``studies_to_run``, or every study defined."""
    return list(config.get("studies_to_run") or config["studies"])


def study_n_samples(config: dict, study: str) -> int:
    """Number of independent training samples of ``study`` (its own value or the global one)."""
    return int(config["studies"][study].get("n_samples", config["n_samples"]))

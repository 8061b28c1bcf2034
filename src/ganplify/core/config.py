"""Study configuration: validation against the JSON schema, with errors that name the key.

The workflow calls :func:`validate_config` before it plans any job, so a typo costs a second, not a
cluster allocation. :func:`merge` is Snakemake's merge of ``--configfile`` layers (nested mappings
are merged, everything else replaced), so that tests and tools see the configuration the workflow
sees. :func:`from_mapping` builds the settings dataclasses of the science modules from a config
section without restating their fields.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from .approaches import APPROACHES

#: The schema that ships with the workflow (``schemas/config.schema.yaml`` at the repository root).
DEFAULT_SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "config.schema.yaml"


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
    for j, name in enumerate(config["approaches"]):
        if name not in APPROACHES:
            problems.append(
                f"config key 'approaches[{j}]': unknown approach {name!r} "
                f"(known: {', '.join(APPROACHES)})"
            )
    for j, name in enumerate(config["approaches"]):
        base = APPROACHES[name].reweights if name in APPROACHES else None
        if base and base not in config["approaches"]:
            problems.append(
                f"config key 'approaches[{j}]': {name!r} reweights {base!r}'s events; add {base!r}"
            )
    for name, study in config["studies"].items():
        sizes = training_sizes(study)
        if len(set(sizes)) != len(sizes):
            problems.append(f"config key 'studies.{name}.n_train': {sizes} repeats a size")
        for n in sizes[1:]:
            if size_study_name(name, n, sizes[0]) in config["studies"]:
                problems.append(
                    f"config key 'studies.{name}.n_train': size {n} would make a study "
                    f"{size_study_name(name, n, sizes[0])!r}, which is defined already"
                )
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
    toys = config["dctr_toys"]
    for toy in toys["run"]:
        for key in ("g_hidden", "d_hidden", "latent_dim", "iterations", "classifier_hidden"):
            if toy not in toys[key]:
                problems.append(
                    f"config key 'dctr_toys.{key}': no entry for toy {toy!r} (in dctr_toys.run)"
                )
    problems += _calorimeter_problems(config["calorimeter"])
    problems += _forecast_problems(config)
    if any(APPROACHES[a].generator for a in config["approaches"] if a in APPROACHES):
        batch = config["gan"]["training"]["batch_size"]
        for name, study in config["studies"].items():
            for n in training_sizes(study):
                if n % batch:
                    problems.append(
                        f"config key 'studies.{name}.n_train': {n} is not a multiple of "
                        f"'gan.training.batch_size' ({batch}); every epoch uses whole batches"
                    )
    return problems


def _forecast_problems(config: Mapping) -> list[str]:
    """forecast.studies: each a study at one of its training sizes, whose size the GAN's batch
    divides (the bootstrap members train as the study's GANs do)."""
    if not config.get("forecast"):
        return []
    sizes = {
        size_study_name(name, n, training_sizes(study)[0]): n
        for name, study in config["studies"].items()
        for n in training_sizes(study)
    }
    batch = config["gan"]["training"]["batch_size"]
    problems = []
    for j, name in enumerate(config["forecast"]["studies"]):
        where = f"config key 'forecast.studies[{j}]'"
        if name not in sizes:
            problems.append(
                f"{where}: no study {name!r} (the studies at their training sizes: "
                f"{', '.join(sizes)})"
            )
        elif sizes[name] % batch:
            problems.append(
                f"{where}: study {name!r} has n_train {sizes[name]}, not a multiple of "
                f"'gan.training.batch_size' ({batch}); its bootstrap members train as its GANs do"
            )
    return problems


def _calorimeter_problems(calo: Mapping) -> list[str]:
    """The calorimeter studies: each named in ``run`` exists, its samples are complete, its
    classifiers fit its geometry."""
    problems = []
    for j, name in enumerate(calo["run"]):
        if name not in calo["studies"]:
            problems.append(
                f"config key 'calorimeter.run[{j}]': no calorimeter study {name!r} "
                f"(defined: {', '.join(calo['studies'])})"
            )
    for name, study in calo["studies"].items():
        where = f"config key 'calorimeter.studies.{name}"
        for key, kinds in (
            ("truth", ("simulator", "file")),
            ("generator", ("simulator", "fastsim", "file", "trained")),
        ):
            sample = study[key]
            if sample["kind"] not in kinds:
                problems.append(
                    f"{where}.{key}.kind': {sample['kind']!r} is not one of {list(kinds)}"
                )
            elif sample["kind"] == "file" and not sample.get("paths"):
                problems.append(f"{where}.{key}.paths': kind 'file' needs the shower files' paths")
            elif sample["kind"] != "file" and "n_showers" not in sample:
                problems.append(
                    f"{where}.{key}.n_showers': kind {sample['kind']!r} needs n_showers"
                )
        problems += _trained_generator_problems(where, study)
        problems += _evaluation_problems(where, study)
        kinds = {study["truth"]["kind"], study["generator"]["kind"]}
        kinds |= {e["kind"] for e in study.get("evaluation", {}).values()}
        sim = {"simulator", "fastsim"} & kinds
        if sim and study["detector"] == "dataset1-pions":
            problems.append(
                f"{where}.detector': dataset1-pions showers come from files only (GFlash is "
                "electromagnetic): truth and generator need kind 'file'"
            )
        if isinstance(study["detector"], str) and study["detector"].endswith(".xml") and sim:
            problems.append(
                f"{where}.detector': a binning XML has no depth description to simulate in; "
                "truth and generator need kind 'file'"
            )
    problems += _amplification_problems(calo)
    problems += _calo_forecast_problems(calo)
    fpd = calo["metrics"]["fpd"]
    if fpd["min_samples"] >= fpd["max_samples"]:
        problems.append(
            "config key 'calorimeter.metrics.fpd.min_samples': must be below max_samples"
        )
    return problems


def _amplification_problems(calo: Mapping) -> list[str]:
    """calorimeter.amplification: each study exists, has a simulated truth (the reference is
    simulated like it) holding the largest training size."""
    amp, problems = calo["amplification"], []
    for j, name in enumerate(amp["run"]):
        where = f"config key 'calorimeter.amplification.run[{j}]'"
        study = calo["studies"].get(name)
        if study is None:
            problems.append(f"{where}: no calorimeter study {name!r}")
        elif study["truth"]["kind"] != "simulator":
            problems.append(
                f"{where}: study {name!r} has a truth of kind {study['truth']['kind']!r}; the "
                "reference sample is simulated, so its truth must be too (kind 'simulator'), "
                "or take the study out of calorimeter.amplification.run"
            )
        elif max(amp["n_train"]) > study["truth"].get("n_showers", 0):
            problems.append(
                f"config key 'calorimeter.amplification.n_train': {max(amp['n_train'])} is more "
                f"than study {name!r}'s truth n_showers ({study['truth'].get('n_showers')})"
            )
    return problems


def _evaluation_problems(where: str, study: Mapping) -> list[str]:
    """A study's evaluation samples: kinds that fit their role, with what each kind needs."""
    problems = []
    allowed = {
        "truth": ("simulator", "file", "split"),
        "generator": ("simulator", "fastsim", "file", "trained", "split"),
    }
    for key, sample in study.get("evaluation", {}).items():
        at = f"{where}.evaluation.{key}"
        if sample["kind"] not in allowed[key]:
            problems.append(f"{at}.kind': {sample['kind']!r} is not one of {list(allowed[key])}")
        elif sample["kind"] == "file" and not sample.get("paths"):
            problems.append(f"{at}.paths': kind 'file' needs the shower files' paths")
        elif sample["kind"] not in ("file", "split") and "n_showers" not in sample:
            problems.append(f"{at}.n_showers': kind {sample['kind']!r} needs n_showers")
        if sample["kind"] == "trained" and study["generator"]["kind"] != "trained":
            problems.append(
                f"{at}.kind': 'trained' draws from the study's trained generator; the generator "
                f"is of kind {study['generator']['kind']!r}"
            )
    return problems


def _calo_forecast_problems(calo: Mapping) -> list[str]:
    """calorimeter.forecast: each study in run exists and has an ensemble, each ensemble's study
    exists; a learned ensemble that runs has its n_train within a simulated truth."""
    fc = calo.get("forecast")
    if not fc:
        return []
    problems = []
    for j, name in enumerate(fc["run"]):
        where = f"config key 'calorimeter.forecast.run[{j}]'"
        if name not in calo["studies"]:
            problems.append(f"{where}: no calorimeter study {name!r}")
        elif name not in fc["ensembles"]:
            problems.append(
                f"{where}: study {name!r} has no entry in calorimeter.forecast.ensembles "
                "(its members: kind file with their paths, or kind trained)"
            )
    for name, ens in fc["ensembles"].items():
        where = f"config key 'calorimeter.forecast.ensembles.{name}"
        study = calo["studies"].get(name)
        if study is None:
            problems.append(f"{where}': no calorimeter study {name!r}")
            continue
        truth = study["truth"]
        if ens["kind"] == "trained" and truth["kind"] != "file" and name in fc["run"]:
            if ens.get("n_train", 0) > truth.get("n_showers", 0):
                problems.append(
                    f"{where}.n_train': {ens['n_train']} is more than the truth's n_showers "
                    f"({truth.get('n_showers')})"
                )
    return problems


def _trained_generator_problems(where: str, study: Mapping) -> list[str]:
    """A learned generator's keys: only on a generator of kind trained, and n_train within the
    truth sample (where its size is known before any job: a simulated truth)."""
    problems = []
    samples = {"truth": study["truth"], "generator": study["generator"]}
    samples |= {f"evaluation.{k}": v for k, v in study.get("evaluation", {}).items()}
    for key, sample in samples.items():
        extra = [k for k in ("n_train", "training") if k in sample]
        if extra and not (key == "generator" and sample["kind"] == "trained"):
            problems.append(
                f"{where}.{key}.{extra[0]}': only a generator of kind 'trained' has {extra[0]}"
            )
    gen, truth = study["generator"], study["truth"]
    if "n_train" in gen and truth["kind"] != "file" and gen["n_train"] > truth.get("n_showers", 0):
        problems.append(
            f"{where}.generator.n_train': {gen['n_train']} is more than the truth's "
            f"n_showers ({truth.get('n_showers')})"
        )
    return problems


def training_sizes(study_cfg: Mapping) -> list[int]:
    """A study's training-sample sizes: ``n_train`` as a list (one entry for a single size)."""
    n = study_cfg["n_train"]
    return [int(v) for v in n] if isinstance(n, list) else [int(n)]


def size_study_name(study: str, n_train: int, first: int) -> str:
    """The name of ``study`` at training size ``n_train``: the first size keeps the name."""
    return study if n_train == first else f"{study}_n{n_train}"


def expand_training_sizes(config: Mapping) -> dict:
    """The configuration with every study of several training sizes split into one study per size.

    ``n_train: [100, 300, 1000]`` makes the study itself (size 100, its usual results folder) and
    the studies ``{study}_n300`` and ``{study}_n1000``, identical but for ``n_train``; their
    samples are independent of the first's (the study name is part of every seed identity).
    ``studies_to_run`` lists the new studies after their base. Returns a new dict.
    """
    out = copy.deepcopy(dict(config))
    studies, order = {}, []
    for name, study in config["studies"].items():
        sizes = training_sizes(study)
        for n in sizes:
            new = size_study_name(name, n, sizes[0])
            studies[new] = {**copy.deepcopy(study), "n_train": n}
    out["studies"] = studies
    for name in config.get("studies_to_run") or config["studies"]:
        sizes = training_sizes(config["studies"][name])
        order += [size_study_name(name, n, sizes[0]) for n in sizes]
    out["studies_to_run"] = order
    return out


def training_size_groups(config: Mapping) -> dict[str, list[tuple[str, int]]]:
    """For each selected study of several training sizes: ``[(study name, n_train), …]``."""
    groups = {}
    for name in config.get("studies_to_run") or config["studies"]:
        sizes = training_sizes(config["studies"][name])
        if len(sizes) > 1:
            groups[name] = [(size_study_name(name, n, sizes[0]), n) for n in sizes]
    return groups


def selected_studies(config: dict) -> list[str]:
    """The studies a run computes: ``studies_to_run``, or every study defined."""
    return list(config.get("studies_to_run") or config["studies"])


def study_n_samples(config: dict, study: str) -> int:
    """Number of independent training samples of ``study`` (its own value or the global one)."""
    return int(config["studies"][study].get("n_samples", config["n_samples"]))


def classifier_settings(config: Mapping, section: Mapping, **mlp) -> dict:
    """The DCTR classifier a config ``section`` (with a ``kind``) selects, as
    :func:`ganplify.dctr.classifiers.classifier_config` reads it: the boosted trees' settings
    (``advanced.boosted``, its calibration apart: :func:`calibration_of`), or the section's own
    network settings with ``mlp`` over them."""
    if section["kind"] == "boosted":
        boosted = config["advanced"]["boosted"]
        trees = {k: v for k, v in boosted.items() if k != "calibration"}
        return {"kind": "boosted"} | trees
    return dict(section) | mlp


def judge_settings(dctr: Mapping) -> dict:
    """The judge of every weight set (:class:`ganplify.dctr.judge.JudgeConfig`): ``dctr.judge``
    as it is — its own keys, nothing inherited from the reweighter's trees, so that tuning the
    reweighter never moves its test."""
    return dict(dctr["judge"])


#: The reweighting tasks of a study, each resolved by :func:`reweighter_spec`.
REWEIGHTER_TASKS = ("toy", "calo_hl", "calo_ll", "amplification", "calo_amplification")


def reweighter_spec(config: Mapping, task: str, *, toy: str | None = None) -> dict:
    """The one resolved reweighter of a task — classifier (kind and settings), calibration,
    folds, weight settings — as :meth:`ganplify.dctr.reweighter.ReweighterSpec.from_mapping`
    reads it. Every rule hands its job this, and nothing else of the DCTR settings.

    - ``toy``: the toys' classifier (``dctr.classifier``; an MLP gets ``toy``'s hidden layers);
    - ``calo_hl``: a calorimeter study's high-level classifier (``calorimeter.hl``);
    - ``calo_ll``: the low-level network (``calorimeter.ll``: its own calibration and cap; no
      raking — the showers are streamed, there are no HL arrays to rake);
    - ``amplification``: the reweighted GANs (``dctr.amplification``) and ``calo_amplification``:
      the learned shower generator's (``calorimeter.hl``). No raking: their truth is the
      generator's own training sample, whose fluctuations raking would copy into the events.
    """
    dctr = config["dctr"]
    weights = dict(dctr["weights"])
    if task == "toy":
        hidden = config["dctr_toys"]["classifier_hidden"][toy]
        section = dctr["classifier"]
        return {
            "classifier": classifier_settings(config, section, hidden=hidden),
            "calibration": calibration_of(config, section),
            "folds": int(dctr["folds"]),
            "weights": weights,
        }
    if task in ("calo_hl", "calo_amplification"):
        section = config["calorimeter"]["hl"]
        return {
            "classifier": classifier_settings(config, section),
            "calibration": calibration_of(config, section),
            "folds": int(dctr["folds"]),
            "weights": weights | ({"rake_bins": 0} if task == "calo_amplification" else {}),
        }
    if task == "calo_ll":
        ll = config["calorimeter"]["ll"]
        network = {k: v for k, v in ll.items() if k not in ("calibration", "cap")}
        return {
            "classifier": {"kind": "lowlevel"} | network | {"bf16": config["advanced"]["ll_bf16"]},
            "calibration": ll["calibration"],
            "folds": int(dctr["folds"]),
            "weights": weights | {"cap": ll["cap"], "rake_bins": 0},
        }
    if task == "amplification":
        amp = dctr["amplification"]
        return {
            "classifier": classifier_settings(config, amp["classifier"]),
            "calibration": calibration_of(config, amp["classifier"]),
            "folds": int(amp["folds"]),
            "weights": weights | {"cap": amp["cap"], "rake_bins": 0},
        }
    raise ValueError(f"unknown reweighting task {task!r} (known: {', '.join(REWEIGHTER_TASKS)})")


def calibration_of(config: Mapping, section: Mapping) -> str:
    """The calibration of the classifier ``section`` selects: ``advanced.boosted.calibration`` for
    the boosted trees, ``dctr.calibration`` for the network. Per kind because they differ: the
    trees' out-of-fold h needs none, and a temperature fitted on the split that also stopped the
    boosting shrinks their weights."""
    if section["kind"] == "boosted":
        return config["advanced"]["boosted"]["calibration"]
    return config["dctr"]["calibration"]


def merge(base: Mapping, *overrides: Mapping) -> dict:
    """``base`` with each of ``overrides`` merged over it, as Snakemake merges ``--configfile``.

    Nested mappings are merged key by key; any other value (lists included) replaces the old one.
    The inputs are not modified.
    """
    out = copy.deepcopy(dict(base))
    for layer in overrides:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def load_config(*paths: str | Path) -> dict:
    """The configuration of ``paths`` (the first is the base, e.g. ``config.yaml``), merged."""
    layers = [yaml.safe_load(Path(p).read_text()) or {} for p in paths]
    return merge(*layers) if layers else {}


_T = typing.TypeVar("_T")


def from_mapping(cls: type[_T], mapping: Mapping, **extra) -> _T:
    """Build the dataclass ``cls`` from a config section (and ``extra`` fields given directly).

    Each value is converted to its field's declared type (``int``, ``float``, ``str``, ``bool``,
    or a ``tuple`` of those), so that YAML's lists and integers-for-floats arrive as the types the
    science code expects. A key that is no field of ``cls`` is an error; a missing key takes the
    field's default.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown setting(s) {unknown}; known: {sorted(names)}")
    values = {**dict(mapping), **extra}
    return cls(**{name: _convert(hints[name], value) for name, value in values.items()})


def _convert(hint, value):
    if typing.get_origin(hint) is tuple:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        item = args[0] if args else (lambda v: v)
        return tuple(item(v) for v in value)
    if hint in (int, float, str, bool):
        return hint(value)
    return value

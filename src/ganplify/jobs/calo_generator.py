"""rules/calo_generator.smk: a learned shower generator (``generator: {kind: trained}``),
trained on a calorimeter study's truth showers and generating the study's "generated" sample.

The model is ``calorimeter.trained.model``: ``vae``, :mod:`ganplify.calo.learned`'s conditional
VAE (its settings: the section's own keys), or ``flow``, :mod:`ganplify.calo.flow`'s conditional
flow matching (its settings: the section's ``flow``); the study generator's ``training`` goes
over ``calorimeter.trained``. It trains on the first ``n_train`` fitting truth showers (all by
default; never an evaluation shower). Files: ``{calo}/generator/model.pt`` (the network that
generates, its standardisation and the training's loss history) and the generated samples' chunks
``{calo}/generated/learned/{k}.h5``, in the format the simulator writes for the geometry, so
that everything downstream reads them as it reads simulated showers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..calo import formats
from ..calo.detector import detector_from_config, spectrum_from_config
from ..core import checkpoint as ckpt
from ..core import seeding
from ..core.io import provenance
from ..core.runtime import inject_fault, stop_on_signals
from .calo_showers import Segment, file_format
from .common import torch_device

log = logging.getLogger("ganplify")

# ganplify.calo.learned (torch) is imported by the job functions only: the workflow imports this
# module when it plans the jobs.

#: ``calorimeter.trained`` keys that do not change the trained model (kept out of its params).
RUNTIME_KEYS = ("threads", "checkpoint_every")

#: The models of ``calorimeter.trained.model``.
MODELS = ("vae", "flow")


def generator_training(shared: Mapping, generator_cfg: Mapping) -> dict:
    """The trained generator's settings: ``calorimeter.trained`` without its runtime keys, the
    study generator's ``training`` merged over them (nested keys one by one), reduced to the
    chosen model's: for ``vae`` the VAE's keys (as before there was a choice: its trained models
    stay current), for ``flow`` ``{"model": "flow"}`` and the ``flow`` section. An unknown model
    is an error naming the key."""
    from ..core.config import merge

    merged = merge(
        {k: v for k, v in shared.items() if k not in RUNTIME_KEYS},
        dict(generator_cfg.get("training", {})),
    )
    model = merged.pop("model", "vae")
    flow = merged.pop("flow", {})
    if model == "vae":
        return merged
    if model == "flow":
        return {"model": "flow", **flow}
    raise ValueError(
        f"calorimeter.trained.model (or a study generator's training.model): {model!r} is not "
        f"one of {list(MODELS)}"
    )


def training_segments(truth: Sequence[Segment], n_train: int | None, calo: str) -> list[list]:
    """The first ``n_train`` showers of the truth's segments as ``[path, format, start, stop]``
    (all of them for None); more than the truth holds is an error naming the key. (The forecast's
    learned ensemble resamples them; a study's generator trains on :func:`training_showers`.)"""
    total = sum(s.n for s in truth)
    n = total if n_train is None else int(n_train)
    if n > total:
        raise ValueError(
            f"calorimeter.studies.{calo}.generator.n_train: {n} showers asked for, "
            f"the truth sample holds {total}"
        )
    out = []
    for s in truth:
        take = min(s.n, n)
        if take <= 0:
            break
        out.append([s.path, s.format, s.start, s.start + take])
        n -= take
    return out


def training_showers(evaluation: np.ndarray, n_train: int, calo: str) -> np.ndarray:
    """Which truth showers a generator trains on: the first ``n_train`` of the fitting showers
    (``evaluation`` false: the evaluation showers are never trained on); more than there are is
    an error naming the key."""
    fit = ~np.asarray(evaluation, dtype=bool)
    if int(n_train) > fit.sum():
        raise ValueError(
            f"calorimeter.studies.{calo}.generator.n_train: {n_train} showers asked for, "
            f"the truth sample holds {int(fit.sum())} fitting showers"
        )
    return fit & (np.cumsum(fit) <= int(n_train))


def train_shower_generator(
    segments: Sequence[Sequence],
    truth_features,
    out,
    *,
    calo: str,
    n_train: int,
    training: Mapping,
    seed: int,
    checkpoint,
    checkpoint_every: int = 25,
    threads: int = 1,
) -> None:
    """Train the study's generator (``training``: :func:`generator_training`'s settings, the VAE
    or the flow) on the first ``n_train`` fitting showers of the truth's ``segments`` (streamed;
    ``truth_features``: the features file that says which are evaluation showers), resuming from
    ``checkpoint``; write the generator to ``out`` (``torch.save``)."""
    from ..calo import flow, learned
    from ..core.io import read_dataset

    inject_fault(out)
    device = torch_device(threads)
    model = training.get("model", "vae")
    if model == "flow":
        cfg = flow.FlowConfig.from_config(training)
        trainer_cls, run = flow.FlowTrainer, flow.train
    elif model == "vae":
        cfg = learned.VAEConfig.from_config(training)
        trainer_cls, run = learned.VAETrainer, learned.train
    else:
        raise ValueError(f"calorimeter.trained.model: {model!r} is not one of {list(MODELS)}")
    keep = training_showers(read_dataset(truth_features, "evaluation"), n_train, calo)
    data = learned.ShowerSlices([tuple(s) for s in segments], cfg.batch_size, keep)
    identity = ["calorimeter", calo, "generator", data.n, "train"]
    trainer = trainer_cls(data, cfg, seed=seeding.torch_seed(seed, *identity), device=device)
    log.info("%s: %s %s on %d truth showers (%s)", calo, model, cfg, data.n, device)
    run(
        trainer,
        checkpoint_path=checkpoint,
        checkpoint_every=int(checkpoint_every),
        should_stop=stop_on_signals(),
    )
    data.close()
    state = trainer.generator().state() | {
        "history": np.asarray(trainer.history),
        "attrs": provenance(
            seed=seed, seed_identity=identity, n_train=data.n, segments=list(map(list, segments))
        ),
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    ckpt.save_atomic(state, out)
    Path(checkpoint).unlink(missing_ok=True)
    log.info("%s: trained %d epochs, last loss %s", calo, cfg.epochs, trainer.history[-1])


def load_generator(path):
    """The generator that :func:`train_shower_generator` wrote: a
    :class:`ganplify.calo.learned.LearnedGenerator` (VAE) or a
    :class:`ganplify.calo.flow.FlowGenerator`, by the file's ``model``."""
    import torch

    from ..calo import flow, learned

    state = torch.load(path, weights_only=False)
    if state.get("model", "vae") == "flow":
        return flow.FlowGenerator.from_state(state)
    return learned.LearnedGenerator.from_state(state)


def generate_showers(
    model,
    out,
    *,
    calo: str,
    sample: str,
    index: int,
    n: int,
    detector,
    incident_energy,
    seed: int,
    batch: int = 1000,
) -> None:
    """Chunk ``index`` of the study's generated sample from the trained generator ``model``:
    incident energies from the study's spectrum, latents (the VAE's) or starting noise (the
    flow's) from the chunk's own random stream."""
    inject_fault(out)
    geometry = detector_from_config(detector)
    spectrum = spectrum_from_config(incident_energy, geometry)
    generator = load_generator(model)
    identity = ["calorimeter", calo, sample, "learned", index]
    rng = seeding.rng(seed, *identity)
    attrs = provenance(
        seed=seed,
        seed_identity=identity,
        sample=sample,
        kind="trained",
        model=str(model),
        detector=detector,
        geometry=geometry.name,
    )
    with formats.ShowerWriter(out, file_format(geometry), calorimeter=geometry, attrs=attrs) as w:
        for lo in range(0, int(n), batch):
            e = spectrum.sample(min(batch, int(n) - lo), rng)
            w.append(e, generator.generate(e, rng, geometry.shape))
    log.info(
        "%s/%s chunk %d: %d showers of the trained generator to %s", calo, sample, index, n, out
    )

"""``ganplify reweight``: the stored DCTR reweighter of a generator's CaloChallenge showers.

``fit`` is the workflow's high-level DCTR step of a calorimeter study on two files, run in this
process through the same job functions (:mod:`ganplify.jobs.calo_showers`,
:mod:`ganplify.jobs.calo_classifiers`):

1. both files are checked (:func:`ganplify.calo.formats.inspect`: structure, the data set's voxel
   count, incident energies) before anything is computed;
2. each file is read in chunks of showers (:func:`.calo_showers.segment_observables`, every
   chunk's values checked by :func:`ganplify.calo.formats.check_values`: NaN, inf, negative
   energies) into the challenge's features, and a random share of its showers is held out for
   evaluation (:func:`.calo_showers.gather_features`, the stream of the config's seed);
3. the reweighter of the config's ``calo_hl`` spec (:func:`ganplify.core.config.reweighter_spec`)
   is cross-fitted on the fitting showers of both files and stored, and the generated file's
   fitting (out of fold) and evaluation showers are weighted (:func:`.calo_classifiers.hl_dctr`);
4. the judge (:func:`.calo_classifiers.judge`: boosted trees with their two controls) compares the
   reference's evaluation showers with the weighted evaluation showers of the generator.

Every random stream's identity is that of the study :data:`STUDY` of ``config/calochallenge.yaml``:
on the same files and config, ``fit`` writes the same reweighter, weights and judge as that
preset's workflow run.

``apply`` weights every shower of another file of the same generator with a stored reweighter
(:func:`ganplify.dctr.reweighter.load`, which refuses a changed file or other inputs), computing
its features exactly as ``fit`` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..calo import formats
from ..core.config import judge_settings, load_config, reweighter_spec, validate_config
from ..core.io import provenance, read_attrs, read_dataset, write_h5
from ..core.progress import progress as progress_bar
from .evaluate import DATASETS, default_config_path, geometry_of

log = logging.getLogger("ganplify")

#: The calorimeter study of config/calochallenge.yaml: the identity of every random stream of a
#: fit (the evaluation split, the folds, the trees, the judge), so that ``fit`` reproduces that
#: preset's high-level reweighter and judge.
STUDY = "calochallenge"
#: The command line's names of the two files → the workflow's samples.
SAMPLES = {"reference": "truth", "generated": "generated"}


class ReweightError(ValueError):
    """A problem with the command's input (a file, the model, an option), named."""


@dataclass
class FitSettings:
    """What ``ganplify reweight fit`` does, and how."""

    dataset: str
    #: the merged, validated configuration (seed, ``calo_hl`` reweighter, ``dctr.judge``)
    config: Mapping
    #: the share of each file held out for evaluation (None: calorimeter.evaluation_fraction)
    evaluation_fraction: float | None = None
    threads: int = 1
    #: showers per observables step (the workflow's segment)
    chunk: int = 10_000
    show_progress: bool = True


def read_config(paths: Sequence = ()) -> dict:
    """The repository's ``config.yaml`` with ``paths`` merged over it in order (as Snakemake
    merges ``--configfile``), validated: an error names the key."""
    base = default_config_path()
    for p in paths:
        if not Path(p).exists():
            raise ReweightError(f"{p}: no such config file (--config)")
    return validate_config(load_config(base, *paths))


def detector_of(dataset: str) -> str:
    """The workflow's ``detector`` of a CaloChallenge data set name (``--dataset``)."""
    geometry_of(dataset)  # a named error for an unknown data set
    return DATASETS[dataset]


def _progress(enabled: bool) -> Callable[[Iterable, str, int | None], Iterable]:
    def progress(items, desc, total=None):
        return progress_bar(items, total=total, desc=desc, enabled=enabled)

    return progress


def inspect(path, dataset: str) -> formats.ShowerFile:
    """The checked CaloChallenge file ``path`` of ``dataset`` (structure, voxel count, incident
    energies inside the data set's range): :func:`ganplify.calo.formats.inspect`."""
    geometry = geometry_of(dataset)
    return formats.inspect(path, geometry, formats.CALOCHALLENGE, geometry.spectrum.range_gev)


def features_file(
    source: formats.ShowerFile,
    out,
    *,
    dataset: str,
    sample: str,
    evaluation: str | float,
    seed: int,
    chunk: int,
    progress,
) -> Path:
    """The features file of a checked shower file (the workflow's ``{sample}/features.h5``):
    its showers' observables computed chunk by chunk (their values checked on the way), and
    which of them are evaluation showers (``evaluation``: a share drawn from ``seed``, or
    "all"/"none"). The chunks' files go to ``out``'s folder ``{sample}/``."""
    from ..jobs.calo_showers import Segment, gather_features, segment_observables

    out = Path(out)
    detector = detector_of(dataset)
    e_range = list(geometry_of(dataset).spectrum.range_gev)
    n = source.n_showers
    segments = [
        Segment(str(source.path), source.format, lo, min(lo + chunk, n))
        for lo in range(0, n, chunk)
    ]
    files = []
    for k, segment in progress(
        list(enumerate(segments)), f"features of {Path(source.path).name}", len(segments)
    ):
        f = out.parent / sample / f"{k}.h5"
        segment_observables(segment, f, detector=detector, energy_range_gev=e_range)
        files.append(f)
    gather_features(
        [str(f) for f in files],
        out,
        sample=sample,
        evaluation=evaluation,
        seed=seed,
        identity=("calorimeter", STUDY, sample, "evaluation"),
    )
    return out


def fit(reference, generated, out, settings: FitSettings) -> dict:
    """Fit the stored high-level reweighter of ``generated`` towards ``reference`` (module
    docstring) into folder ``out``: ``reweighter.h5``, ``weights.h5``, ``judge.h5`` and the
    features files (``features/``). Returns what the command prints: the split, the weights'
    diagnostics and the judge's AUCs."""
    from ..jobs.calo_classifiers import hl_dctr, judge

    config = settings.config
    seed = int(config["seed"])
    fraction = settings.evaluation_fraction
    if fraction is None:
        fraction = float(config["calorimeter"]["evaluation_fraction"])
    if not 0 < fraction < 1:
        raise ReweightError(f"--evaluation-fraction {fraction!r}: between 0 and 1")
    if settings.chunk < 1:
        raise ReweightError(f"--chunk {settings.chunk!r}: at least 1")
    detector = detector_of(settings.dataset)
    sources = {
        "reference": inspect(reference, settings.dataset),
        "generated": inspect(generated, settings.dataset),
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress = _progress(settings.show_progress)
    files = {}
    for name, sample in SAMPLES.items():
        files[name] = features_file(
            sources[name],
            out / "features" / f"{sample}.h5",
            dataset=settings.dataset,
            sample=sample,
            evaluation=fraction,
            seed=seed,
            chunk=settings.chunk,
            progress=progress,
        )
    split = {
        name: (int(e.sum()), len(e))
        for name, e in ((n, read_dataset(f, "evaluation")) for n, f in files.items())
    }
    spec = reweighter_spec(config, "calo_hl")
    log.info(
        "fitting the reweighter (%s, %d folds) on %d reference and %d generated showers",
        spec["classifier"]["kind"],
        spec["folds"],
        split["reference"][1] - split["reference"][0],
        split["generated"][1] - split["generated"][0],
    )
    start = time.monotonic()
    weights, model = out / "weights.h5", out / "reweighter.h5"
    hl_dctr(
        files["reference"],
        files["generated"],
        files["generated"],
        weights,
        model,
        calo=STUDY,
        detector=detector,
        reweighter=spec,
        seed=seed,
        threads=settings.threads,
    )
    fit_seconds = time.monotonic() - start
    log.info("judging the weights of the evaluation showers (with its two controls)")
    judge_file = out / "judge.h5"
    judge(
        files["reference"],
        files["generated"],
        weights,
        judge_file,
        calo=STUDY,
        detector=detector,
        judged="hl",
        judge=judge_settings(config["dctr"]),
        seed=seed,
        threads=settings.threads,
    )
    w_attrs, j_attrs = read_attrs(weights), read_attrs(judge_file)
    return {
        "fraction": fraction,
        "seed": seed,
        "split": split,
        "spec": spec,
        "fit_seconds": fit_seconds,
        "fit_auc": w_attrs["fit_auc"],
        "evaluation_diagnostics": w_attrs["evaluation_diagnostics"],
        "judge": {
            k: j_attrs[k]
            for k in (
                "auc",
                "auc_err",
                "auc_unweighted",
                "auc_unweighted_err",
                "auc_null",
                "auc_null_err",
                "trees",
            )
        },
        "files": {"model": model, "weights": weights, "judge": judge_file, **files},
    }


@dataclass
class ApplySettings:
    """What ``ganplify reweight apply`` does, and how."""

    dataset: str
    threads: int = 1
    chunk: int = 10_000
    show_progress: bool = True


def apply(model, generated, out, settings: ApplySettings) -> dict:
    """Weight every shower of ``generated`` with the stored reweighter ``model``: the weights
    file ``out`` holds ``weights`` and ``h`` (the calibrated classifier output), one per shower
    in the file's order, and ``fitting_shower``: which showers the reweighter was fitted on
    (their weights are in sample; a warning says how many). The file and the model are checked
    before any work. Returns the weights' diagnostics."""
    import tempfile

    from ..dctr import reweighter
    from ..jobs.calo_classifiers import hl_inputs, hl_names
    from ..jobs.common import torch_device

    if settings.chunk < 1:
        raise ReweightError(f"--chunk {settings.chunk!r}: at least 1")
    detector = detector_of(settings.dataset)
    source = inspect(generated, settings.dataset)
    model = Path(model)
    if not model.exists():
        raise ReweightError(f"{model}: no such reweighter file (--model)")
    names = hl_names(detector)
    try:
        rw = reweighter.load(model, features=names)
    except reweighter.ReweighterFileError as err:
        raise reweighter.ReweighterFileError(
            f"{err} (--model: a reweighter that 'ganplify reweight fit' or the workflow fitted "
            f"on showers of --dataset {settings.dataset})"
        ) from None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".reweight-", dir=out.parent) as tmp:
        features = features_file(
            source,
            Path(tmp) / "features" / "generated.h5",
            dataset=settings.dataset,
            sample="generated",
            evaluation="all",
            seed=0,  # nothing is drawn: every shower is weighted
            chunk=settings.chunk,
            progress=_progress(settings.show_progress),
        )
        x = hl_inputs(features, detector)
    torch_device(settings.threads)
    h = rw.h(x)
    w, diag = rw.weights_from_h(h, x, None)
    seen = rw.seen(x)
    n_seen = None if seen is None else int(seen.sum())
    if n_seen:
        log.warning(
            "%d of the %d showers of %s are showers the reweighter was fitted on: their weights "
            "are in sample (dataset 'fitting_shower' marks them; leave them out of any number you "
            "report, or use the fit's own weights.h5, whose fitting showers are weighted out of "
            "fold)",
            n_seen,
            len(x),
            source.path,
        )
    datasets = {"weights": w, "h": h}
    if seen is not None:
        datasets["fitting_shower"] = seen
    write_h5(
        out,
        datasets,
        provenance(
            model_file=str(model),
            model_info=rw.info,
            spec=rw.spec.as_dict(),
            features=names,
            generated_file=str(source.path),
            dataset=settings.dataset,
            diagnostics=diag.as_dict(),
            n_fitting_showers=-1 if n_seen is None else n_seen,
        ),
    )
    return {
        "diagnostics": diag.as_dict(),
        "n": len(w),
        "n_fitting_showers": n_seen,
        "model_info": rw.info,
    }

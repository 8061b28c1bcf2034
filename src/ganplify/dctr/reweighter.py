"""The DCTR reweighter as a stored function: fitted once, it weights any events of the generator.

:func:`fit` cross-fits the classifier a :class:`ReweighterSpec` describes on the *fitting* truth
and the generated events (k folds, R repeats: :func:`.crossfit.cross_fit`). The result, a
:class:`Reweighter`, holds every fold's classifier and calibration, the weight cap, the
normalisation fixed on the generated sample and — with ``spec.weights.rake_bins`` — the raking
tables (:mod:`.raking`), and :meth:`Reweighter.weights` weights any events with them:

- the generated events of the fit, with their folds (``folds=``): each by the classifiers that
  never saw it (out of fold, in every repeat) and by the raking table fitted without its fold —
  the weights the workflow's jobs write;
- new events (``folds=None``): by every classifier (their mean logit) and the table fitted on
  every fitting event. No fitting step saw them either.

Raking out of sample: the table that weights fold f's events is fitted on the other folds' events
with weights from a nested cross-fit of those folds alone (a fold's own classifier weights its
training events in sample, too sharply), so neither the classifier nor the table of an event's
weight saw that event. It costs k more cross-fits.

:meth:`Reweighter.save` / :func:`load`: one HDF5 file of arrays and JSON attributes — no pickle,
loading runs no code — stating the format, the ganplify version and the classifier inputs' names,
with a SHA-256 of its contents. :func:`load` refuses a file of another version or format, other
feature names, or contents that changed after writing, naming the file. The file also keeps a
64-bit hash of each fitting generated event (:func:`event_hashes`), so that :meth:`Reweighter.seen`
can tell which of a user's events the classifiers were trained on: weighted as new events,
those would get in-sample weights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..core.config import ConfigError
from .calibration import Calibration
from .weights import WeightDiagnostics, WeightSettings, dctr_weights, normalisation

#: The file format :meth:`Reweighter.save` writes.
FORMAT = "ganplify-reweighter/1"


@dataclass(frozen=True)
class ReweighterSpec:
    """Everything that turns (truth, generated) into weights, resolved from the config in one
    place (:func:`ganplify.core.config.reweighter_spec`) and handed to every job.

    ``classifier``: its ``kind`` (boosted, mlp; lowlevel for the networks on whole showers) and
    that kind's settings; ``calibration``: none, temperature or isotonic; ``folds``: k of the
    cross-fit; ``weights``: clip, cap, normalisation and raking; ``max_train_generated``: the
    generated events each fold trains on at most (None: all).
    """

    classifier: Mapping
    calibration: str = "none"
    folds: int = 2
    weights: WeightSettings = field(default_factory=WeightSettings)
    max_train_generated: int | None = None

    KEYS = ("classifier", "calibration", "folds", "weights", "max_train_generated")

    def __post_init__(self):
        if int(self.folds) < 2:
            raise ConfigError(f"reweighter folds {self.folds!r}: at least 2")
        if "kind" not in self.classifier:
            raise ConfigError("reweighter classifier: needs a 'kind'")

    @classmethod
    def from_mapping(cls, spec: Mapping) -> ReweighterSpec:
        """The spec of a mapping with :data:`KEYS` (``weights``: WeightSettings' keys)."""
        unknown = sorted(set(spec) - set(cls.KEYS))
        if unknown:
            raise ConfigError(f"reweighter spec: unknown key(s) {unknown}; known: {cls.KEYS}")
        weights = spec.get("weights", {})
        if not isinstance(weights, WeightSettings):
            weights = WeightSettings.from_config(weights)
        mtg = spec.get("max_train_generated")
        return cls(
            classifier=dict(spec["classifier"]),
            calibration=str(spec.get("calibration", "none")),
            folds=int(spec.get("folds", 2)),
            weights=weights,
            max_train_generated=None if mtg is None else int(mtg),
        )

    def as_dict(self) -> dict:
        return {
            "classifier": dict(self.classifier),
            "calibration": self.calibration,
            "folds": int(self.folds),
            "weights": asdict(self.weights),
            "max_train_generated": self.max_train_generated,
        }


@dataclass
class Member:
    """One fold's classifier of one repeat, and its calibration."""

    repeat: int
    fold: int
    classifier: object
    calibration: Calibration

    def h(self, x) -> np.ndarray:
        return self.calibration(self.classifier.predict(x))


def mean_logit(hs: Sequence[np.ndarray]) -> np.ndarray:
    """Outputs averaged in logit, ln(h/(1 − h)): the mean log density ratio. One output alone is
    returned as it is."""
    if len(hs) == 1:
        return np.asarray(hs[0])
    from scipy.special import expit, logit

    # the clip of dctr_weights' default epsilon: one saturated fit must not dominate the mean
    return expit(np.mean([logit(np.clip(h, 1e-6, 1 - 1e-6)) for h in hs], axis=0))


@dataclass
class Reweighter:
    """A fitted DCTR reweighter (see the module): call :meth:`weights` on any events."""

    spec: ReweighterSpec
    #: the names of the classifier's inputs, in column order
    features: tuple[str, ...]
    #: repeat r's fold f at r·k + f
    members: list[Member]
    #: the normalisation fixed on the generated events of the fit (1 without normalisation)
    norm: float = 1.0
    #: raking tables: per fold of repeat 0 (the fit's events), and for new events
    rake_folds: list | None = None
    rake_all: object | None = None
    #: what the fit saw: seed, identity, event counts (stated in the file)
    info: dict = field(default_factory=dict)
    #: sorted :func:`event_hashes` of the fitting generated events (None: not recorded)
    fit_hashes: np.ndarray | None = None

    @property
    def folds(self) -> int:
        return int(self.spec.folds)

    @property
    def repeats(self) -> int:
        return len(self.members) // self.folds

    def member(self, repeat: int, fold: int) -> Member:
        return self.members[repeat * self.folds + fold]

    def h(self, x, folds=None) -> np.ndarray:
        """Calibrated classifier outputs of events ``x``. ``folds``: each event's fold in every
        repeat, ``(repeats, n)`` or ``(n,)`` with one repeat (events of the fit: out of fold);
        None: every member's (new events)."""
        x = np.asarray(x)
        # a flat vector per event has one column per named input; a low-level reweighter names
        # its whole input (showers, or the cls-low vector) once and checks it itself
        flat = not self.members or self.members[0].classifier.kind != "lowlevel"
        width = x.shape[1] if x.ndim == 2 else 1
        if flat and (x.ndim > 2 or width != len(self.features)):
            names = ", ".join(self.features[:5]) + (", ..." if len(self.features) > 5 else "")
            raise ValueError(
                f"events of shape {x.shape}: this reweighter takes {len(self.features)} inputs "
                f"per event ({names})"
            )
        if folds is None:
            return mean_logit([m.h(x) for m in self.members])
        folds = np.asarray(folds).reshape(self.repeats, len(x))
        per_repeat = []
        for r in range(self.repeats):
            out = np.empty(len(x))
            for f in range(self.folds):
                idx = np.flatnonzero(folds[r] == f)
                out[idx] = self.member(r, f).h(x[idx])
            per_repeat.append(out)
        return mean_logit(per_repeat)

    def rake_factor(self, x, folds=None) -> np.ndarray | None:
        """Each event's raking factor (None without raking): the table fitted without its fold
        (``folds``: as in :meth:`h`), or the one for new events."""
        if self.rake_all is None:
            return None
        x = np.asarray(x, dtype=float).reshape(len(x), -1)
        if folds is None:
            return self.rake_all.factor(x)
        fold0 = np.asarray(folds).reshape(self.repeats, len(x))[0]
        out = np.empty(len(x))
        for f, table in enumerate(self.rake_folds):
            idx = np.flatnonzero(fold0 == f)
            out[idx] = table.factor(x[idx])
        return out

    def seen(self, x) -> np.ndarray | None:
        """Which of the events ``x`` are fitting generated events of this reweighter (their
        inputs bit for bit); None where the file does not record them. Weighted as new events
        (``folds=None``), those events get weights from classifiers that trained on them."""
        if self.fit_hashes is None:
            return None
        return np.isin(event_hashes(x), self.fit_hashes)

    def weights(self, x, folds=None, initial_weights=None) -> tuple[np.ndarray, WeightDiagnostics]:
        """Weights of events ``x`` (``folds``: as in :meth:`h`) and their diagnostics."""
        return self.weights_from_h(self.h(x, folds), x, folds, initial_weights)

    def weights_from_h(
        self, h, x=None, folds=None, initial_weights=None
    ) -> tuple[np.ndarray, WeightDiagnostics]:
        """The weights of events whose calibrated outputs ``h`` were computed elsewhere (showers
        streamed in batches); ``x``: their classifier inputs, needed only for raking."""
        factor = None
        if self.rake_all is not None:
            if x is None:
                raise ValueError("this reweighter rakes: its weights need the classifier inputs")
            factor = self.rake_factor(x, folds)
        return dctr_weights(
            h, self.spec.weights, initial_weights, rake_factor=factor, norm=self.norm
        )

    # -- the file ----------------------------------------------------------------------------

    def _contents(self) -> tuple[dict, dict]:
        """(attributes, datasets) of the file."""
        datasets, members = {}, []
        for i, m in enumerate(self.members):
            settings, arrays = m.classifier.state()
            for k, v in arrays.items():
                datasets[f"members/{i}/{k}"] = np.asarray(v)
            cal = m.calibration
            datasets[f"members/{i}/calibration/knots_x"] = np.asarray(cal.knots_x, float)
            datasets[f"members/{i}/calibration/knots_y"] = np.asarray(cal.knots_y, float)
            members.append(
                {
                    "repeat": int(m.repeat),
                    "fold": int(m.fold),
                    "kind": m.classifier.kind,
                    "settings": settings,
                    "calibration": {"method": cal.method, "temperature": float(cal.temperature)},
                }
            )
        if self.fit_hashes is not None:
            datasets["fit/generated_hashes"] = np.asarray(self.fit_hashes, dtype=np.uint64)
        tables = {} if self.rake_all is None else {"all": self.rake_all}
        tables |= {f"fold{f}": t for f, t in enumerate(self.rake_folds or [])}
        for name, table in tables.items():
            for k, v in table.arrays().items():
                datasets[f"rake/{name}/{k}"] = v
        attrs = {
            "format": FORMAT,
            "ganplify_version": __version__,
            "features": list(self.features),
            "spec": self.spec.as_dict(),
            "norm": float(self.norm),
            "members": members,
            "raked": self.rake_all is not None,
            "info": dict(self.info),
        }
        return attrs, datasets

    def save(self, path) -> None:
        """Write the reweighter to ``path`` (HDF5, atomically; see the module)."""
        from ..core.io import write_h5

        attrs, datasets = self._contents()
        write_h5(path, datasets, attrs | {"sha256": _digest(attrs, datasets)})


def _canonical(value):
    return json.loads(json.dumps(value, sort_keys=True))


def _digest(attrs: Mapping, datasets: Mapping) -> str:
    """SHA-256 of the attributes (as JSON) and of every dataset's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    h.update(json.dumps(_canonical(dict(attrs)), sort_keys=True).encode())
    for name in sorted(datasets):
        a = np.ascontiguousarray(datasets[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class ReweighterFileError(ValueError):
    """A stored reweighter cannot be used: the message names the file and the reason."""


def load(path, features: Sequence[str] | None = None) -> Reweighter:
    """The reweighter stored in ``path`` by :meth:`Reweighter.save`.

    Refused, with the file named: another format or ganplify version, contents that differ from
    their checksum (a changed or truncated file), or — with ``features`` — classifier inputs of
    other names or order than the caller's events.
    """
    import h5py

    from ..core.io import read_attrs
    from .classifiers import load_classifier
    from .raking import RakeTable

    path = Path(path)
    try:
        attrs = read_attrs(path)
        datasets = {}
        with h5py.File(path, "r") as f:
            f.visititems(
                lambda name, obj: (
                    datasets.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
                )
            )
    except (OSError, KeyError) as e:
        raise ReweighterFileError(f"{path}: not a readable reweighter file ({e})") from e
    if attrs.get("format") != FORMAT:
        raise ReweighterFileError(
            f"{path}: format {attrs.get('format')!r} is not a ganplify reweighter ({FORMAT})"
        )
    stored = attrs.pop("sha256", None)
    if stored != _digest(attrs, datasets):
        raise ReweighterFileError(
            f"{path}: its contents do not match the checksum it was written with "
            "(changed or damaged after it was written): refit it"
        )
    if attrs["ganplify_version"] != __version__:
        raise ReweighterFileError(
            f"{path}: written by ganplify {attrs['ganplify_version']}, this is {__version__}: "
            f"refit the reweighter with this version (or install {attrs['ganplify_version']})"
        )
    if features is not None and list(features) != list(attrs["features"]):
        ours, theirs = list(features), list(attrs["features"])
        where = next(
            (j for j, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
            min(len(ours), len(theirs)),
        )
        raise ReweighterFileError(
            f"{path}: fitted on {len(theirs)} inputs, the events have {len(ours)}; they differ "
            f"first at column {where} ({theirs[where] if where < len(theirs) else '-'!r} in the "
            f"file, {ours[where] if where < len(ours) else '-'!r} in the events)"
        )
    members = []
    for i, m in enumerate(attrs["members"]):
        prefix = f"members/{i}/"
        arrays = {k[len(prefix) :]: v for k, v in datasets.items() if k.startswith(prefix)}
        cal = Calibration(
            m["calibration"]["method"],
            temperature=float(m["calibration"]["temperature"]),
            knots_x=np.asarray(arrays["calibration/knots_x"]),
            knots_y=np.asarray(arrays["calibration/knots_y"]),
        )
        classifier = load_classifier(m["kind"], m["settings"], arrays)
        members.append(Member(int(m["repeat"]), int(m["fold"]), classifier, cal))

    def table(name):
        prefix = f"rake/{name}/"
        arrays = {k[len(prefix) :]: v for k, v in datasets.items() if k.startswith(prefix)}
        return RakeTable.from_arrays(arrays)

    spec = ReweighterSpec.from_mapping(attrs["spec"])
    raked = bool(attrs.get("raked"))
    return Reweighter(
        spec,
        tuple(attrs["features"]),
        members,
        norm=float(attrs["norm"]),
        rake_folds=[table(f"fold{f}") for f in range(spec.folds)] if raked else None,
        rake_all=table("all") if raked else None,
        info=dict(attrs.get("info", {})),
        fit_hashes=datasets.get("fit/generated_hashes"),
    )


def event_hashes(x) -> np.ndarray:
    """A 64-bit hash of each event's inputs (as float64, bit for bit): equal events, equal
    hashes; two different events collide with probability ~2⁻⁶⁴."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(len(x), -1))
    bits = x.view(np.uint64)
    h = np.full(len(x), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bits.shape[1]):
            # FNV-style mixing of each column, then a splitmix64 finaliser per step
            h = (h ^ bits[:, j]) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    return h


def fit(
    x_truth,
    x_gen,
    spec: ReweighterSpec,
    *,
    seed: int,
    identity: tuple = (),
    features: Sequence[str] | None = None,
    initial_weights=None,
    device="cpu",
):
    """Fit the reweighter ``spec`` describes on the fitting truth ``x_truth`` against the
    generated events ``x_gen`` (``initial_weights``: theirs, if the generator weights its
    events). Returns the :class:`Reweighter` and the cross-fit (:class:`.crossfit.CrossFit`: the
    out-of-fold outputs, folds and histories the weights file keeps). The generated events'
    weights are ``reweighter.weights(x_gen, folds=cf.repeat_fold_gen, initial_weights=…)``."""
    from .classifiers import classifier_config
    from .crossfit import cross_fit

    x_truth = np.asarray(x_truth, dtype=float).reshape(len(x_truth), -1)
    x_gen = np.asarray(x_gen, dtype=float).reshape(len(x_gen), -1)
    names = (
        tuple(features) if features is not None else tuple(f"x{j}" for j in range(x_gen.shape[1]))
    )
    if len(names) != x_gen.shape[1] or x_truth.shape[1] != x_gen.shape[1]:
        raise ValueError(
            f"{len(names)} feature names for truth of {x_truth.shape[1]} and generated events "
            f"of {x_gen.shape[1]} columns"
        )
    w0 = None if initial_weights is None else np.asarray(initial_weights, dtype=float)
    cf = cross_fit(
        x_truth,
        x_gen,
        classifier_config(spec.classifier),
        folds=spec.folds,
        calibration=spec.calibration,
        seed=seed,
        identity=identity,
        w_gen=w0,
        device=device,
        max_train_gen=spec.max_train_generated,
    )
    rw = from_cross_fit(cf, spec, names, info={"seed": seed, "identity": list(identity)})
    rw.info |= {"n_truth": len(x_truth), "n_generated": len(x_gen)}
    rw.fit_hashes = np.sort(event_hashes(x_gen))
    h = rw.h(x_gen, cf.repeat_fold_gen)
    settings = spec.weights
    if settings.rake_bins and x_gen.shape[1] > 1:
        rw.rake_folds = [
            _nested_table(
                x_truth, x_gen, cf, f, spec, seed=seed, identity=identity, w0=w0, device=device
            )
            for f in range(spec.folds)
        ]
        rw.rake_all = _table(h, x_gen, x_truth, settings, w0)
    rw.norm = _norm(rw, h, x_gen, cf.repeat_fold_gen, w0)
    return rw, cf


def from_cross_fit(cf, spec: ReweighterSpec, features, info=None) -> Reweighter:
    """The (unraked, unnormalised) reweighter of a finished cross-fit's classifiers."""
    members = [
        Member(i // spec.folds, i % spec.folds, model, cal)
        for i, (model, cal) in enumerate(zip(cf.models, cf.calibrations, strict=True))
    ]
    return Reweighter(spec, tuple(features), members, info=dict(info or {}))


def finish(rw: Reweighter, h_gen, folds, initial_weights=None) -> Reweighter:
    """Fix ``rw``'s normalisation on the fit's generated events (their out-of-fold outputs
    ``h_gen`` and ``folds``): for reweighters whose events were streamed (no raking)."""
    if rw.spec.weights.rake_bins:
        raise ValueError("raking needs the classifier inputs in memory (fit)")
    rw.norm = _norm(rw, h_gen, None, folds, initial_weights)
    return rw


def _norm(rw: Reweighter, h, x, folds, w0) -> float:
    if not rw.spec.weights.normalise:
        return 1.0
    unnormalised = replace(
        rw, spec=replace(rw.spec, weights=replace(rw.spec.weights, normalise=False))
    )
    w, _ = unnormalised.weights_from_h(h, x, folds, w0)
    return normalisation(w, w0)


def _capped_ratio(h, settings: WeightSettings, w0) -> np.ndarray:
    plain = replace(settings, normalise=False)
    return dctr_weights(h, plain, w0)[0]


def _table(h, x_gen, x_truth, settings: WeightSettings, w0):
    from .raking import fit_rake_table

    return fit_rake_table(
        _capped_ratio(h, settings, w0),
        x_gen,
        x_truth,
        bins=settings.rake_bins,
        iterations=settings.rake_iterations,
    )


def _nested_table(x_truth, x_gen, cf, f, spec, *, seed, identity, w0, device):
    """The raking table for fold f's events: fitted on the other folds alone, their weights from
    a cross-fit of those folds (the events of fold f enter neither)."""
    keep_t, keep_g = cf.fold_truth != f, cf.fold_gen != f
    inner_spec = replace(spec, weights=replace(spec.weights, rake_bins=0, normalise=False))
    wk = None if w0 is None else w0[keep_g]
    inner, icf = fit(
        x_truth[keep_t],
        x_gen[keep_g],
        inner_spec,
        seed=seed,
        identity=(*identity, "rake", f),
        initial_weights=wk,
        device=device,
    )
    h = inner.h(x_gen[keep_g], icf.repeat_fold_gen)
    return _table(h, x_gen[keep_g], x_truth[keep_t], spec.weights, wk)

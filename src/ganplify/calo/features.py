"""Observables of calorimeter showers, computed chunk by chunk (docs/science.md §2.4).

For showers ``(n, layers, x, y)`` in MeV:

- the 33 high-level (HL) inputs of the DCTR paper's HL classifier: the number of hit cells, the
  longitudinal centroid Σ_i i E_i / Σ_i E_i (layers counted from 1, as in the paper's formula),
  the visible energy and the 30 layer energies;
- layer differences E_i − E_{i+1} and E_i − E_{i+4};
- per-layer energy-weighted second moments ⟨X²⟩ and ⟨Y²⟩: the energy-weighted variance of the
  cell index in x (y) within the layer (0 for a layer without energy). The HL classifier never
  sees them: they test whether reweighting generalises.

:func:`observables` returns them as one ``(n, n_observables)`` array in the order of
:data:`OBSERVABLES`; :data:`GROUPS` names each observable's group (the paper's Fig. 8 summarises
S² and r per group) and :func:`hl_inputs` scales the HL inputs as the paper fed them to its
network (counts and MeV divided by 1000).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

N_LAYERS = 30


def _names() -> tuple[list[str], list[str]]:
    names = ["n_hit", "centroid", "e_vis"] + [f"e_layer_{i}" for i in range(N_LAYERS)]
    groups = ["hl"] * len(names)
    for step in (1, 4):
        diffs = [f"e_layer_{i}_minus_{i + step}" for i in range(N_LAYERS - step)]
        names, groups = names + diffs, groups + ["layer_diff"] * len(diffs)
    for axis in ("x", "y"):
        moments = [f"{axis}2_layer_{i}" for i in range(N_LAYERS)]
        names, groups = names + moments, groups + [f"{axis}2"] * len(moments)
    return names, groups


#: Every observable, in the column order of :func:`observables`.
OBSERVABLES, _GROUP_LIST = _names()
#: observable name → group ("hl", "layer_diff", "x2", "y2")
GROUPS = dict(zip(OBSERVABLES, _GROUP_LIST, strict=True))
#: The 33 inputs of the high-level classifier.
HL_FEATURES = [n for n in OBSERVABLES if GROUPS[n] == "hl"]


def layer_energies(showers) -> np.ndarray:
    """Energy per layer, ``(n, layers)``."""
    return np.asarray(showers, dtype=np.float64).sum(axis=(2, 3))


def second_moments(showers, axis: int) -> np.ndarray:
    """Energy-weighted variance of the cell index along ``axis`` (2: x, 3: y), per layer."""
    s = np.asarray(showers, dtype=np.float64)
    profile = s.sum(axis=5 - axis)  # (n, layers, cells along axis)
    index = np.arange(profile.shape[-1], dtype=np.float64)
    total = profile.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (profile * index).sum(-1) / total
        var = (profile * index**2).sum(-1) / total - mean**2
    return np.where(total > 0, np.maximum(var, 0.0), 0.0)


def observables(showers) -> np.ndarray:
    """Every observable of each shower, ``(n, len(OBSERVABLES))`` float64."""
    s = np.asarray(showers)
    if s.ndim != 4 or s.shape[1] != N_LAYERS:
        raise ValueError(f"showers must be (n, {N_LAYERS}, x, y), got shape {s.shape}")
    e = layer_energies(s)
    e_vis = e.sum(1)
    n_hit = (s > 0).sum(axis=(1, 2, 3)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(e_vis > 0, (e * np.arange(1, N_LAYERS + 1)).sum(1) / e_vis, 0.0)
    columns = [n_hit[:, None], centroid[:, None], e_vis[:, None], e]
    columns += [e[:, :-1] - e[:, 1:], e[:, :-4] - e[:, 4:]]
    columns += [second_moments(s, 2), second_moments(s, 3)]
    return np.concatenate(columns, axis=1)


def hl_inputs(obs: np.ndarray) -> np.ndarray:
    """The HL classifier's 33 inputs from :func:`observables`' output, scaled as in the paper:
    [n_hit/1000, centroid, E_vis/1000, E_layer/1000 (MeV → GeV)]."""
    x = np.asarray(obs, dtype=np.float64)[:, : len(HL_FEATURES)].copy()
    x[:, 0] /= 1000.0
    x[:, 2:] /= 1000.0
    return x


@dataclass(frozen=True)
class FeatureSet:
    """The observables of one geometry, and the inputs of its high-level (HL) classifier.

    The ILD-like ECAL: the DCTR paper's observables (this module); the HL classifier sees the 33
    paper inputs. A CaloChallenge geometry: the challenge's features
    (:mod:`.challenge_features`); the HL classifier sees the cls-high vector, which holds
    log10 E_inc, so that its weights are conditional, w(x | E).
    """

    names: list[str]
    #: observable name → group
    groups: dict[str, str]
    #: group → label (the summaries over groups, Fig. 8)
    group_labels: dict[str, str]
    compute: Callable[[np.ndarray], np.ndarray]
    hl: Callable[[np.ndarray, np.ndarray], np.ndarray]
    #: whether the HL inputs depend on the incident energy
    conditional: bool
    #: the names of the HL inputs, in :attr:`hl`'s column order
    hl_names: list[str]


def feature_set(geometry) -> FeatureSet:
    """The :class:`FeatureSet` of ``geometry`` (any geometry of :mod:`.detector`)."""
    if geometry.kind == "cartesian":
        if geometry.n_layers != N_LAYERS:
            raise ValueError(f"the paper's observables need {N_LAYERS} layers")
        return FeatureSet(
            OBSERVABLES,
            GROUPS,
            {"hl": "33 HL inputs", "x2": "30 layers' <X²>", "layer_diff": "layer differences"},
            observables,
            lambda obs, _energies: hl_inputs(obs),
            conditional=False,
            hl_names=[f"{n}/1000" if n != "centroid" else n for n in HL_FEATURES],
        )
    from . import challenge_features as cf

    names, groups = cf.feature_names(geometry)
    return FeatureSet(
        names,
        dict(zip(names, groups, strict=True)),
        dict(cf.GROUP_LABELS),
        partial(cf.features, geometry=geometry),
        partial(cf.cls_high, geometry=geometry),
        conditional=True,
        hl_names=cf.cls_high_names(geometry),
    )

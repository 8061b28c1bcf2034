"""The CaloChallenge's high-level features of showers in a cylindrical geometry (:mod:`.challenge`).

As the challenge's ``HighLevelFeatures.CalculateFeatures`` defines them, for showers
``(n, n_voxels)`` in MeV, after zeroing voxels below the geometry's ``feature_threshold_mev``
(1 MeV for dataset 1; 0.5 keV / 0.033 for datasets 2 and 3):

- ``e_tot``, the total energy, and ``e_layer_{id}`` per layer;
- per layer with more than one α bin: the energy-weighted centre Σ x E / (Σ E + 10⁻¹⁶) and width
  sqrt(max(Σ x² E / (Σ E + 10⁻¹⁶) − centre², 0)) in x = η = r cos α and x = φ = r sin α
  (``eta_centre_{id}``, ``phi_centre_{id}``, ``eta_width_{id}``, ``phi_width_{id}``);
- per layer the same in r (``r_centre_{id}``, ``r_width_{id}``);
- per layer the sparsity, 1 − (the fraction of voxels with energy) (``sparsity_{id}``).

:func:`cls_high` turns them (and the incident energy) into the challenge's cls-high classifier
vector: [log10 E_inc, log10(E_layer + 10⁻⁸), η and φ centres / 100, η and φ widths / 100,
log10(E_tot + 10⁻⁸), sparsity, r centres / 100, r widths / 100], energies in MeV.
"""

from __future__ import annotations

import numpy as np

from .challenge import CylindricalGeometry

#: the groups of features (S² and r summaries per group, Fig. 8)
GROUP_LABELS = {
    "energy": "total and layer energies",
    "centre": "centres (eta, phi, r)",
    "width": "widths (eta, phi, r)",
    "sparsity": "sparsity per layer",
}


def feature_names(geometry: CylindricalGeometry) -> tuple[list[str], list[str]]:
    """(names, groups) of :func:`features`' columns."""
    ids = geometry.layer_ids
    alpha = [lay.id for lay in geometry.layers if lay.n_alpha > 1]
    names, groups = ["e_tot"], ["energy"]
    blocks = [
        ([f"e_layer_{i}" for i in ids], "energy"),
        ([f"eta_centre_{i}" for i in alpha], "centre"),
        ([f"phi_centre_{i}" for i in alpha], "centre"),
        ([f"eta_width_{i}" for i in alpha], "width"),
        ([f"phi_width_{i}" for i in alpha], "width"),
        ([f"r_centre_{i}" for i in ids], "centre"),
        ([f"r_width_{i}" for i in ids], "width"),
        ([f"sparsity_{i}" for i in ids], "sparsity"),
    ]
    for block, group in blocks:
        names += block
        groups += [group] * len(block)
    return names, groups


def features(showers, geometry: CylindricalGeometry) -> np.ndarray:
    """Every high-level feature of each shower, ``(n, len(feature_names))`` float64."""
    s = np.asarray(showers, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != geometry.n_voxels:
        raise ValueError(
            f"showers must be (n, {geometry.n_voxels}) for {geometry.name!r}, got {s.shape}"
        )
    s = np.where(s < geometry.feature_threshold_mev, 0.0, s)
    starts = geometry.offsets[:-1]
    eta, phi, r = geometry.voxel_centres
    e_layer = np.add.reduceat(s, starts, axis=1)
    denominator = e_layer + 1e-16

    def centre_width(x):
        c = np.add.reduceat(s * x, starts, axis=1) / denominator
        m2 = np.add.reduceat(s * x * x, starts, axis=1) / denominator
        return c, np.sqrt(np.maximum(m2 - c * c, 0.0))

    alpha = np.array([lay.n_alpha > 1 for lay in geometry.layers])
    c_eta, w_eta = centre_width(eta)
    c_phi, w_phi = centre_width(phi)
    c_r, w_r = centre_width(r)
    n_vox = np.diff(geometry.offsets)
    sparsity = 1.0 - np.add.reduceat((s > 0).astype(np.float64), starts, axis=1) / n_vox
    columns = [
        e_layer.sum(1, keepdims=True),
        e_layer,
        c_eta[:, alpha],
        c_phi[:, alpha],
        w_eta[:, alpha],
        w_phi[:, alpha],
        c_r,
        w_r,
        sparsity,
    ]
    return np.concatenate(columns, axis=1)


def cls_high(feats, energies_gev, geometry: CylindricalGeometry) -> np.ndarray:
    """The challenge's cls-high vector from :func:`features`' output and the incident energies."""
    f = np.asarray(feats, dtype=np.float64)
    n_l = geometry.n_layers
    n_a = int(sum(lay.n_alpha > 1 for lay in geometry.layers))
    e_tot = f[:, :1]
    e_layer = f[:, 1 : 1 + n_l]
    k = 1 + n_l
    c_eta, c_phi = f[:, k : k + n_a], f[:, k + n_a : k + 2 * n_a]
    w_eta, w_phi = f[:, k + 2 * n_a : k + 3 * n_a], f[:, k + 3 * n_a : k + 4 * n_a]
    k += 4 * n_a
    c_r, w_r, sparsity = f[:, k : k + n_l], f[:, k + n_l : k + 2 * n_l], f[:, k + 2 * n_l :]
    e_inc_mev = 1000.0 * np.asarray(energies_gev, dtype=np.float64).reshape(-1, 1)
    return np.concatenate(
        [
            np.log10(e_inc_mev),
            np.log10(e_layer + 1e-8),
            c_eta / 100.0,
            c_phi / 100.0,
            w_eta / 100.0,
            w_phi / 100.0,
            np.log10(e_tot + 1e-8),
            sparsity,
            c_r / 100.0,
            w_r / 100.0,
        ],
        axis=1,
    )


def cls_high_names(geometry: CylindricalGeometry) -> list[str]:
    """The names of :func:`cls_high`'s columns, in its order."""
    ids = geometry.layer_ids
    alpha = [lay.id for lay in geometry.layers if lay.n_alpha > 1]
    return (
        ["log10_e_inc"]
        + [f"log10_e_layer_{i}" for i in ids]
        + [f"eta_centre_{i}/100" for i in alpha]
        + [f"phi_centre_{i}/100" for i in alpha]
        + [f"eta_width_{i}/100" for i in alpha]
        + [f"phi_width_{i}/100" for i in alpha]
        + ["log10_e_tot"]
        + [f"sparsity_{i}" for i in ids]
        + [f"r_centre_{i}/100" for i in ids]
        + [f"r_width_{i}/100" for i in ids]
    )


def _is_dataset1(geometry: CylindricalGeometry) -> bool:
    return str(geometry.name).startswith("dataset1")


def histogram_edges(name: str, geometry: CylindricalGeometry, reference=None) -> np.ndarray:
    """The edges of the challenge's histogram of feature ``name`` (a :func:`feature_names` name,
    or ``e_tot_over_e_inc``), as its ``evaluate_plotting_helper`` draws them and computes their
    separation power: fixed ranges per data set and layer in mm, 100 bins; layer energies in 39
    logarithmic bins from the threshold to the ``reference`` sample's largest value; sparsity in
    20 bins of [0, 1]; E_tot / E_inc in 100 bins of [0.5, 1.5]."""
    if name == "e_tot_over_e_inc":
        return np.linspace(0.5, 1.5, 101)
    kind, _, layer = name.rpartition("_")
    if kind == "e_layer":
        top = float(np.max(reference)) if reference is not None and len(reference) else 0.0
        low = geometry.feature_threshold_mev
        if top <= low:  # an empty layer in the reference: one bin above the threshold
            top = 10 * low
        return np.logspace(np.log10(low), np.log10(top), 40)
    if kind == "sparsity":
        return np.linspace(0.0, 1.0, 21)
    lay = int(layer)
    ds1 = _is_dataset1(geometry)
    if kind in ("eta_centre", "phi_centre"):
        lim = (-500.0, 500.0) if ds1 and lay in (12, 13) else (-100.0, 100.0)
        lim = lim if ds1 else (-30.0, 30.0)
    elif kind in ("eta_width", "phi_width"):
        lim = (0.0, 400.0) if ds1 and lay in (12, 13) else (0.0, 100.0)
        lim = lim if ds1 else (0.0, 30.0)
    elif kind == "r_centre":
        lim = ((0.0, 1500.0) if lay in (12, 13, 14) else (0.0, 500.0)) if ds1 else (0.0, 42.0)
    elif kind == "r_width":
        lim = ((0.0, 1500.0) if lay in (12, 13, 14) else (0.0, 500.0)) if ds1 else (0.0, 20.0)
    else:
        raise ValueError(f"no challenge histogram for feature {name!r}")
    return np.linspace(*lim, 101)


def energy_ratio_edges(energy_mev: float, geometry: CylindricalGeometry) -> np.ndarray:
    """The challenge's E_tot / E_inc edges at one incident energy of dataset 1 (its per-energy
    panels): 20 bins of [0.4, 1.4], photons above 4 GeV (the fifth energy on) of [0.9, 1.1]."""
    photons = geometry.particle == "photon"
    if photons and energy_mev >= 2**12:
        return np.linspace(0.9, 1.1, 21)
    return np.linspace(0.4, 1.4, 21)


def voxel_energy_edges(reference_max_mev: float, geometry: CylindricalGeometry) -> np.ndarray:
    """The challenge's edges of the voxel-energy distribution: 49 logarithmic bins from the
    threshold to the reference's largest voxel."""
    low = geometry.feature_threshold_mev
    top = max(float(reference_max_mev), 10 * low)
    return np.logspace(np.log10(low), np.log10(top), 50)

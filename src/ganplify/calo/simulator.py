"""A parametrised electromagnetic shower simulator: Grindhammer–Peters (GFlash) for a sampling ECAL.

It stands in for Geant4 as the study's "truth" (no offline Geant4 and no shower data set can be
installed here). The parametrisation is that of Grindhammer & Peters (hep-ex/0001020) as
implemented in Geant4's GFlash (``GFlashSamplingShowerParameterisation.cc``,
``GFlashSamplingShowerTuning.hh``) and CMSSW's ``EMECALShowerParametrization.h``; the formulae are
written out in docs/science.md §2.5. Per shower:

1. Longitudinal profile dE/dt = E (βt)^(α−1) β e^(−βt) / Γ(α), t in radiation lengths,
   β = (α − 1)/T. ln T and ln α are drawn from correlated normals (homogeneous means corrected for
   the sampling structure: F_S, ê; widths and correlation from ln y, y = E/E_c); Geant4's clamps
   σ ≤ 0.5, T ≥ 1, α ≥ 1.1 apply.
2. Energy spots: N_spot = (10.3/c) E^0.959 (E in GeV), each at a depth drawn from the spot profile
   (T_spot = T(0.813 + 0.0019 Z), α_spot = α(0.844 + 0.0026 Z)), at a radius r (Molière radii) drawn
   from the core + tail profile f(r) = p 2rR_C²/(r²+R_C²)² + (1−p) 2rR_T²/(r²+R_T²)² at
   τ = t/T (with the sampling corrections), and at a uniform azimuth.
3. Deposition: a spot at depth t lies in the slab (absorber + silicon) that contains t; its
   silicon layer records the spot's share of the energy, E/N_spot, times the slab's minimum-ionising
   sampling fraction and the electron-to-MIP response ``e_over_mip``. Spots beyond the last slab
   leak out of the back; spots outside the 30 × 30 cells leak out of the side.
4. Sampling fluctuations: each shower's deposits are scaled by a Gamma variate of mean 1 and
   relative width c/√E (c = 0.11); cells below the threshold (0.1 MeV) are zeroed.

The photon enters at the centre of the face, a corner of four cells, so that flips in x and y are
symmetries of the showers. Energies are in MeV; showers have shape (layers, x, y).

``e_over_mip`` and the readout gap are the tuned numbers: e/mip = 0.44 brings the mean visible
energy of 50 GeV photons to ≈ 800 MeV, where the paper's Geant4 showers lie (GFlash's ê ≈ 0.70
would give ≈ 1,270 MeV), and 1.25 mm of readout per layer (geometry.Calorimeter) widens the
showers to ≈ 750 hit cells (the paper: ≈ 780).

Showers are made in chunks from a ``numpy.random.Generator`` per chunk, so chunk k of a sample is
reproducible alone and chunks run as independent jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core.config import from_mapping
from .geometry import ILD, Calorimeter


@dataclass(frozen=True)
class ShowerModel:
    """Settings of the parametrisation. The defaults are the truth simulator.

    The switches exist for the simplified "fast" generator (:data:`FASTSIM`): it uses the same
    code with the (ln T, ln α) correlation off, Gaussian instead of log-normal fluctuations, a
    shallower depth and fewer, coarser spots.
    """

    #: draw ln T and ln α correlated (Grindhammer–Peters); False: independent
    correlated: bool = True
    #: fluctuate ln T, ln α (log-normal T, α); False: T and α themselves normal, same relative width
    lognormal: bool = True
    #: multiplies the shower depth T
    depth_scale: float = 1.0
    #: multiplies the fluctuation widths of T and α
    sigma_scale: float = 1.0
    #: multiplies the number of spots (fewer spots: coarser, more fluctuating showers)
    spot_factor: float = 1.0
    #: relative per-shower fluctuation of the number of spots (0: N_spot fixed)
    spot_count_spread: float = 0.0
    #: multiplies the radial core and tail radii
    radial_scale: float = 1.0
    #: visible electron energy per MIP-equivalent in silicon (tuned, see the module docstring)
    e_over_mip: float = 0.44
    #: sampling term c of the relative resolution c/√E (GeV)
    sampling_c: float = 0.11

    @classmethod
    def from_config(cls, cfg: Mapping) -> ShowerModel:
        return from_mapping(cls, cfg)


#: The truth simulator.
TRUTH = ShowerModel()

#: The stand-in fast generator: every difference from the truth in one place (README documents it).
#: Tuned so that the median S² over the 33 high-level inputs is ≈ 0.06 (50 GeV photons), with the
#: paper's GAN's failure pattern: shallower showers, a broader hit-count distribution.
FASTSIM = ShowerModel(
    correlated=False,
    lognormal=False,
    depth_scale=0.94,
    sigma_scale=1.3,
    spot_factor=0.9,
    spot_count_spread=0.10,
)


def _longitudinal(lny, eff, model: ShowerModel, n: int, rng: np.random.Generator):
    """Per-shower (T, α) of the sampling calorimeter (GFlash sampling parametrisation)."""
    z = eff["Z"]
    t_hom = lny - 0.812
    a_hom = 0.81 + (0.458 + 2.26 / z) * lny
    mean_ln_t = np.log(t_hom - 0.55 / eff["F_S"] - 0.69 * (1.0 - eff["e_hat"]))
    mean_ln_a = np.log(a_hom - 0.476 / eff["F_S"])
    s_t = min(0.5, 1.0 / (-2.5 + 1.25 * lny)) * model.sigma_scale
    s_a = min(0.5, 1.0 / (-0.82 + 0.79 * lny)) * model.sigma_scale
    rho = 0.784 - 0.023 * lny if model.correlated else 0.0
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    u_t = np.sqrt((1 + rho) / 2) * z1 + np.sqrt((1 - rho) / 2) * z2
    u_a = np.sqrt((1 + rho) / 2) * z1 - np.sqrt((1 - rho) / 2) * z2
    if model.lognormal:
        t, a = np.exp(mean_ln_t + s_t * u_t), np.exp(mean_ln_a + s_a * u_a)
    else:
        t = np.exp(mean_ln_t) * (1.0 + s_t * u_t)
        a = np.exp(mean_ln_a) * (1.0 + s_a * u_a)
    return np.maximum(t * model.depth_scale, 1.0), np.maximum(a, 1.1)


def _radial(tau, energy_gev, eff, model: ShowerModel, rng: np.random.Generator):
    """A radius (Molière radii) per spot at relative depth ``tau`` (core + tail profile).

    Computed in the precision of ``tau`` (float32 in :func:`simulate`: half the memory traffic).
    """
    z, ln_e, fs, e_hat = eff["Z"], float(np.log(energy_gev)), eff["F_S"], eff["e_hat"]
    r_c = 0.0251 + 0.00319 * ln_e + (0.1162 - 0.000381 * z) * tau
    k1, k2, k3, k4 = 0.659 - 0.00309 * z, 0.645, -2.59, 0.3585 + 0.0421 * ln_e
    r_t = k1 * (np.exp(k3 * (tau - k2)) + np.exp(k4 * (tau - k2)))
    p1, p2, p3 = 2.632 - 0.00094 * z, 0.401 + 0.00187 * z, 1.313 - 0.0686 * ln_e
    arg = (p2 - tau) / p3
    p = p1 * np.exp(arg - np.exp(arg))
    # sampling-calorimeter corrections
    e_tau = np.exp(-tau)
    r_c += -0.0203 * (1 - e_hat) + (0.0397 / fs) * e_tau
    r_t += -0.14 * (1 - e_hat) - (0.495 / fs) * e_tau
    p += (1 - e_hat) * (0.348 - (0.642 / fs) * np.exp(-((tau - 1) ** 2)))
    radius = np.where(rng.random(tau.size, dtype=tau.dtype) < p, r_c, r_t)
    np.maximum(radius, 1e-3, out=radius)
    radius *= model.radial_scale
    u = rng.random(tau.size, dtype=tau.dtype)
    return radius * np.sqrt(u / (1.0 - u))


def _layout(calo, model: ShowerModel):
    """What :func:`simulate` needs of a geometry: the effective medium, the layers' depth edges
    (X0), each layer's Molière radius (mm) and energy response (visible MeV per deposited MeV),
    and the cell threshold. The ILD-like ECAL records the silicon's share of a MIP times
    ``e_over_mip``; a CaloChallenge geometry records calibrated deposits (response 1)."""
    f32 = np.float32
    if calo.kind == "cartesian":
        return (
            calo.effective(),
            calo.slab_edges_x0.astype(f32),
            calo.moliere_mm.astype(f32),
            model.e_over_mip * calo.mip_fraction.astype(f32),
            calo.threshold_mev,
        )
    sim = calo.simulation
    if sim is None:
        raise ValueError(
            f"geometry {calo.name!r} ({calo.particle}): no simulation (GFlash is electromagnetic; "
            "showers of this geometry come from files)"
        )
    depths = np.asarray(sim.depth_x0, dtype=np.float64)
    if not np.allclose(depths[1:, 0], depths[:-1, 1]):
        raise ValueError(f"geometry {calo.name!r}: layer depths must be contiguous")
    edges = np.concatenate([depths[:, 0], depths[-1:, 1]]).astype(f32)
    n = calo.n_layers
    return (
        sim.effective(),
        edges,
        np.full(n, sim.moliere_mm, dtype=f32),
        np.ones(n, dtype=f32),
        sim.threshold_mev,
    )


def simulate(
    n: int,
    rng: np.random.Generator,
    *,
    energy_gev: float = 50.0,
    model: ShowerModel = TRUTH,
    calorimeter: Calorimeter = ILD,
    buffer: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` showers of incident energy ``energy_gev``, shape ``(n, *calorimeter.shape)``,
    float32, MeV: ``(n, layers, x, y)`` for the Cartesian ECAL, ``(n, voxels)`` for a
    CaloChallenge geometry (:mod:`.challenge`).

    ``buffer``: a flat float32 array of at least ``n · voxels + 1`` elements, filled and returned
    as a view (see :func:`shower_buffer`); reusing one spares the page faults of fresh memory,
    which cost more than the simulation itself.
    """
    calo = calorimeter
    eff, edges_x0, moliere_mm, response, threshold = _layout(calo, model)
    e_mev = 1000.0 * energy_gev
    lny = float(np.log(e_mev / eff["critical_energy"]))
    t_max, alpha = _longitudinal(lny, eff, model, n, rng)
    t_spot = t_max * (0.813 + 0.0019 * eff["Z"])
    a_spot = alpha * (0.844 + 0.0026 * eff["Z"])
    beta_spot = (a_spot - 1.0) / t_spot

    n_mean = (10.3 / model.sampling_c) * energy_gev**0.959 * model.spot_factor
    if model.spot_count_spread > 0:
        n_spots = np.maximum(
            1, np.round(n_mean * np.exp(model.spot_count_spread * rng.standard_normal(n)))
        ).astype(np.int64)
    else:
        n_spots = np.full(n, int(round(n_mean)), dtype=np.int64)
    f32 = np.float32
    shower = np.repeat(np.arange(n, dtype=np.int32), n_spots)
    depth = rng.standard_gamma(np.repeat(a_spot.astype(f32), n_spots), dtype=f32)
    depth /= np.repeat(beta_spot.astype(f32), n_spots)
    n_layers = len(edges_x0) - 1
    layer = np.searchsorted(edges_x0, depth, side="right") - 1
    back = layer >= n_layers  # leaks out of the back: goes to the overflow cell below
    layer = np.minimum(layer, n_layers - 1)
    tau = depth / t_max.astype(f32)[shower]
    r_mm = _radial(tau, energy_gev, eff, model, rng) * moliere_mm[layer]
    phi = (2.0 * np.pi) * rng.random(tau.size, dtype=f32)
    voxel = calo.voxel_index(layer, r_mm, phi)
    lost = back | (voxel < 0)
    flat = shower.astype(np.int64) * calo.n_voxels + voxel
    size = n * calo.n_voxels
    flat[lost] = size  # one overflow cell collects every leaked spot
    energy = response[layer] * (e_mev / n_spots.astype(f32))[shower]
    if buffer is None:
        buffer = shower_buffer(n, calo)
    if buffer.dtype != f32 or buffer.ndim != 1 or buffer.size < size + 1:
        raise ValueError(f"buffer: need a flat float32 array of >= {size + 1} elements")
    flat_cells = buffer[: size + 1]
    flat_cells[:] = 0.0
    np.add.at(flat_cells, flat, energy)
    cells = flat_cells[:size].reshape(n, *calo.shape)
    # sampling fluctuations of the whole shower: Gamma of mean 1, relative width c / sqrt(E)
    k = energy_gev / model.sampling_c**2
    cells *= rng.gamma(k, 1.0 / k, size=n).astype(f32).reshape(n, *([1] * len(calo.shape)))
    cells[cells < threshold] = 0.0
    return cells


def simulate_energies(
    energies_gev,
    rng: np.random.Generator,
    *,
    model: ShowerModel = TRUTH,
    calorimeter: Calorimeter = ILD,
    buffer: np.ndarray | None = None,
) -> np.ndarray:
    """Showers of the given incident energies (GeV), in that order: one :func:`simulate` call per
    distinct energy, in order of first appearance (a discrete spectrum groups; a continuous one
    simulates shower by shower — the spots, not the calls, dominate the cost)."""
    e = np.asarray(energies_gev, dtype=np.float64).reshape(-1)
    n = len(e)
    out = np.empty((n, *calorimeter.shape), dtype=np.float32)
    values, first = np.unique(e, return_index=True)
    scratch = buffer if buffer is not None else shower_buffer(n, calorimeter)
    for value in values[np.argsort(first)]:
        idx = np.flatnonzero(e == value)
        out[idx] = simulate(
            len(idx),
            rng,
            energy_gev=float(value),
            model=model,
            calorimeter=calorimeter,
            buffer=scratch,
        )
    return out


def shower_buffer(n: int, calorimeter: Calorimeter = ILD) -> np.ndarray:
    """A reusable buffer for :func:`simulate` of up to ``n`` showers (plus one overflow cell)."""
    return np.empty(n * calorimeter.n_voxels + 1, dtype=np.float32)


def simulate_sample(
    n: int,
    rng: np.random.Generator,
    spectrum,
    *,
    model: ShowerModel = TRUTH,
    calorimeter: Calorimeter = ILD,
    batch: int = 250,
):
    """Yield ``(incident energies GeV, showers)`` in batches of at most ``batch`` from one stream,
    the energies drawn from ``spectrum`` (:class:`.challenge.Spectrum`) batch by batch; memory
    stays bounded."""
    buffer = shower_buffer(min(batch, n), calorimeter)
    for start in range(0, n, batch):
        e = spectrum.sample(min(batch, n - start), rng)
        yield e, simulate_energies(e, rng, model=model, calorimeter=calorimeter, buffer=buffer)


def simulate_chunk(
    n: int,
    rng: np.random.Generator,
    *,
    energy_gev: float = 50.0,
    model: ShowerModel = TRUTH,
    calorimeter: Calorimeter = ILD,
    batch: int = 250,
):
    """Yield showers of ``energy_gev`` in batches of at most ``batch`` from one stream; memory
    stays bounded.

    Every batch is a view of one reused buffer: use (or copy) it before taking the next.
    """
    buffer = shower_buffer(min(batch, n), calorimeter)
    for start in range(0, n, batch):
        yield simulate(
            min(batch, n - start),
            rng,
            energy_gev=energy_gev,
            model=model,
            calorimeter=calorimeter,
            buffer=buffer,
        )

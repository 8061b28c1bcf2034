"""CaloChallenge 2022 geometries: cylindrical (layer, α, r) voxels read from the binning XML.

A binning file (``binning/``, shipped with the package; source in its README) describes, per
particle, each layer's radial bin edges in mm and its number of angular bins; a layer with
``r_edges="0"`` has no voxels. A shower is a flat vector of voxel energies in MeV, ordered
(layer, α, r): layer by layer (in file order), inside a layer α-major. α bin centres are the
midpoints of ``linspace(−π, π, n_α + 1)``, r bin centres the midpoints of the layer's edges, and a
voxel sits at η = r cos α, φ = r sin α (the challenge's ``XMLHandler``).

:class:`CylindricalGeometry` also carries what the GFlash simulator needs to deposit showers in
it (:class:`Simulation`: the depth of each voxelised layer in radiation lengths, its Molière
radius, the sampling structure): the challenge's own detectors are Geant4 descriptions we cannot
run, so these are documented stand-ins (:data:`SIMULATIONS`), not the challenge's geometry.

- ``dataset1-photons`` / ``dataset1-pions``: the ATLAS-like barrel of dataset 1 (η 0.20–0.25).
  Voxelised layers 0 (presampler), 1–3 (EM strips, middle, back), 12 (first hadronic sampling);
  the other ids of the file have no voxels. Stand-in depths from the ATLAS EM barrel at small η:
  layer 0 the first 2 X0 (the material in front and the presampler), 1: 2–6.3 X0, 2: 6.3–22.3 X0,
  3: 22.3–24.3 X0, 12: 24.3–40 X0; lead/liquid-argon sampling (1.53 mm Pb, 4.2 mm LAr per cell).
  Pions are read and analysed from files only: GFlash is electromagnetic.
- ``dataset2`` / ``dataset3``: 45 readout layers, each two cells of 1.4 mm W + 0.3 mm Si
  (0.806 X0 per readout layer, 36 X0 in all), as the challenge describes them.

In every simulated challenge geometry the energies are *calibrated* deposits (the challenge's
files are scaled by the inverse sampling fraction, so that a contained shower sums to about its
incident energy): each spot deposits its share of the incident energy, then the whole shower is
smeared by the sampling term.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from .geometry import SILICON, TUNGSTEN, Material

LEAD = Material("Pb", 82.0, 207.2, 11.35, 6.37, 1.122)
LIQUID_ARGON = Material("LAr", 18.0, 39.95, 1.396, 19.55, 2.105)


@dataclass(frozen=True)
class Layer:
    """One layer of a binning file: its id, radial edges (mm) and angular bins."""

    id: int
    r_edges: tuple[float, ...]
    n_alpha: int

    @property
    def n_r(self) -> int:
        return max(len(self.r_edges) - 1, 0)

    @property
    def n_voxels(self) -> int:
        return self.n_r * self.n_alpha


@dataclass(frozen=True)
class Spectrum:
    """Incident energies (GeV): ``discrete`` values drawn uniformly, or ``log_uniform`` in
    [low, high] (``values`` = (low, high))."""

    kind: str
    values: tuple[float, ...]

    def __post_init__(self):
        if self.kind not in ("discrete", "log_uniform"):
            raise ValueError(f"incident-energy spectrum kind {self.kind!r}")
        if self.kind == "log_uniform" and (len(self.values) != 2 or self.values[0] <= 0):
            raise ValueError(f"log_uniform spectrum needs (low, high) > 0, got {self.values}")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "discrete" and len(self.values) == 1:
            return np.full(n, float(self.values[0]))  # a fixed energy draws nothing
        if self.kind == "discrete":
            return np.asarray(self.values, dtype=np.float64)[rng.integers(len(self.values), size=n)]
        lo, hi = np.log(self.values[0]), np.log(self.values[1])
        return np.exp(rng.uniform(lo, hi, size=n))

    @property
    def range_gev(self) -> tuple[float, float]:
        return float(min(self.values)), float(max(self.values))

    def bins(self, n_log_bins: int = 5) -> np.ndarray:
        """Edges of the incident-energy bins of the per-energy summaries: one bin per discrete
        energy (edges at the geometric midpoints), or ``n_log_bins`` equal bins in log E."""
        lo, hi = self.range_gev
        if self.kind == "discrete":
            v = np.sort(np.asarray(self.values, dtype=float))
            mid = np.sqrt(v[1:] * v[:-1])
            return np.concatenate([[v[0] / 1.01], mid, [v[-1] * 1.01]])
        return np.geomspace(lo, hi * (1 + 1e-9), int(n_log_bins) + 1)


@dataclass(frozen=True)
class Simulation:
    """How the GFlash simulator deposits a shower in a challenge geometry (stand-ins, see the
    module docstring)."""

    #: depth of each voxelised layer, (front, back) in radiation lengths, in layer order
    depth_x0: tuple[tuple[float, float], ...]
    absorber: Material
    active: Material
    absorber_mm: float
    active_mm: float
    #: voxel energies below this are zeroed in simulated showers (MeV, file units)
    threshold_mev: float

    @cached_property
    def moliere_mm(self) -> float:
        """Effective Molière radius: the absorber's, spread over the sampling cell's pitch."""
        return self.absorber.moliere_mm * (self.absorber_mm + self.active_mm) / self.absorber_mm

    def effective(self) -> dict[str, float]:
        """The effective medium for GFlash (as :meth:`.geometry.Calorimeter.effective`)."""
        da, dp = self.absorber_mm, self.active_mm
        ma, mp = da * self.absorber.density, dp * self.active.density
        wa, wp = ma / (ma + mp), mp / (ma + mp)
        z = wa * self.absorber.Z + wp * self.active.Z
        a = wa * self.absorber.A + wp * self.active.A
        x0_g = 1.0 / (wa / self.absorber.x0_g + wp / self.active.x0_g)
        x0_mm = (da + dp) / (da / self.absorber.x0_mm + dp / self.active.x0_mm)
        return {
            "Z": z,
            "critical_energy": 2.66 * (x0_g * z / a) ** 1.1,
            "F_S": x0_mm / (da + dp),
            "e_hat": 1.0 / (1.0 + 0.007 * (self.absorber.Z - self.active.Z)),
        }


@dataclass(frozen=True)
class CylindricalGeometry:
    """A CaloChallenge geometry: the voxelised layers of one particle of a binning file."""

    name: str
    particle: str
    #: the voxelised layers, in file (= voxel) order
    layers: tuple[Layer, ...]
    #: incident energies of the data set
    spectrum: Spectrum
    #: the challenge's ``min_energy`` of the high-level features (MeV): voxels below are zeroed
    feature_threshold_mev: float
    simulation: Simulation | None = None

    kind = "cylindrical"

    @property
    def n_voxels(self) -> int:
        return sum(layer.n_voxels for layer in self.layers)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def layer_ids(self) -> list[int]:
        return [layer.id for layer in self.layers]

    @property
    def voxel_layout(self) -> str:
        return f"{self.n_layers} layers, (layer, alpha, r) order"

    @property
    def shape(self) -> tuple[int]:
        """One shower: a flat vector of voxels."""
        return (self.n_voxels,)

    @cached_property
    def offsets(self) -> np.ndarray:
        """First voxel of each layer (n_layers + 1 entries)."""
        return np.concatenate([[0], np.cumsum([layer.n_voxels for layer in self.layers])])

    @cached_property
    def voxel_centres(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(η, φ, r) of every voxel's centre, ``(n_voxels,)`` each, in (layer, α, r) order."""
        eta, phi, r = [], [], []
        for layer in self.layers:
            edges = np.asarray(layer.r_edges, dtype=np.float64)
            r_mid = 0.5 * (edges[1:] + edges[:-1])
            a_edges = np.linspace(-np.pi, np.pi, layer.n_alpha + 1)
            a_mid = 0.5 * (a_edges[1:] + a_edges[:-1])
            aa, rr = np.meshgrid(a_mid, r_mid, indexing="ij")  # α-major, then r
            eta.append((rr * np.cos(aa)).ravel())
            phi.append((rr * np.sin(aa)).ravel())
            r.append(rr.ravel())
        return np.concatenate(eta), np.concatenate(phi), np.concatenate(r)

    def voxel_index(self, layer: np.ndarray, r_mm: np.ndarray, phi: np.ndarray) -> np.ndarray:
        """Voxel within the shower of a deposit in voxelised layer ``layer`` (position in
        :attr:`layers`) at radius ``r_mm`` and azimuth ``phi`` ∈ [0, 2π); −1 outside."""
        out = np.full(np.shape(layer), -1, dtype=np.int64)
        for j, lay in enumerate(self.layers):
            sel = np.flatnonzero(layer == j)
            if not sel.size:
                continue
            edges = np.asarray(lay.r_edges, dtype=r_mm.dtype)
            rb = np.searchsorted(edges, r_mm[sel], side="right") - 1
            ab = np.minimum(
                (phi[sel] * (lay.n_alpha / (2 * np.pi))).astype(np.int64), lay.n_alpha - 1
            )
            inside = (rb >= 0) & (rb < lay.n_r)
            out[sel[inside]] = self.offsets[j] + ab[inside] * lay.n_r + rb[inside]
        return out


def parse_binning(path, particle: str | None = None) -> tuple[str, tuple[Layer, ...]]:
    """(particle name, voxelised layers) of a binning XML; ``particle`` selects a ``<Bin>`` by
    name when the file holds several. Raises ``ValueError`` naming the file for a bad file."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise ValueError(f"{path}: not a readable binning XML ({err})") from None
    bins = root.findall("Bin") if root.tag == "Bins" else root.findall(".//Bin")
    if particle is not None:
        bins = [b for b in bins if b.get("name") == particle]
    if len(bins) != 1:
        names = [b.get("name") for b in root.iter("Bin")]
        raise ValueError(
            f"{path}: {len(bins)} <Bin> elements match particle {particle!r} (found {names})"
        )
    layers = []
    for el in bins[0].findall("Layer"):
        try:
            edges = tuple(float(v) for v in el.get("r_edges", "").split(","))
            layer = Layer(int(el.get("id")), edges, int(el.get("n_bin_alpha", "1")))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: bad <Layer {el.attrib}> ({err})") from None
        if layer.n_r and any(b <= a for a, b in zip(edges[:-1], edges[1:], strict=True)):
            raise ValueError(f"{path}: layer {layer.id}: r_edges not increasing")
        if layer.n_voxels:
            layers.append(layer)
    if not layers:
        raise ValueError(f"{path}: no layer with voxels")
    return str(bins[0].get("name")), tuple(layers)


_DATASET1_ENERGIES = tuple(0.256 * 2**k for k in range(15))  # 256 MeV … 4.194 TeV
_ATLAS_DEPTHS = ((0.0, 2.0), (2.0, 6.3), (6.3, 22.3), (22.3, 24.3), (24.3, 40.0))
_SIW_DEPTHS = tuple((0.806 * k, 0.806 * (k + 1)) for k in range(45))
#: datasets 2 and 3 are stored in MeV / 0.033 (the sampling fraction): thresholds in file units
_SIW_SCALE = 1.0 / 0.033
#: datasets 2 and 3: the same 45 readout layers of W/Si
_SIW = Simulation(_SIW_DEPTHS, TUNGSTEN, SILICON, 1.4, 0.3, threshold_mev=15.15e-3 * _SIW_SCALE)

#: name → (binning file, particle, spectrum, feature threshold MeV, simulation or None)
DATASETS = {
    "dataset1-photons": (
        "binning_dataset_1_photons.xml",
        "photon",
        Spectrum("discrete", _DATASET1_ENERGIES),
        1.0,
        Simulation(_ATLAS_DEPTHS, LEAD, LIQUID_ARGON, 1.53, 4.2, threshold_mev=1.0),
    ),
    "dataset1-pions": (
        "binning_dataset_1_pions.xml",
        "pion",
        Spectrum("discrete", _DATASET1_ENERGIES),
        1.0,
        None,
    ),
    "dataset2": (
        "binning_dataset_2.xml",
        "electron",
        Spectrum("log_uniform", (1.0, 1000.0)),
        0.5e-3 * _SIW_SCALE,
        _SIW,
    ),
    "dataset3": (
        "binning_dataset_3.xml",
        "electron",
        Spectrum("log_uniform", (1.0, 1000.0)),
        0.5e-3 * _SIW_SCALE,
        _SIW,
    ),
}


def binning_file(name: str) -> Path:
    """The shipped binning XML of data set ``name``."""
    return Path(str(resources.files("ganplify.calo") / "binning" / DATASETS[name][0]))


def dataset_geometry(name: str) -> CylindricalGeometry:
    """The geometry of a CaloChallenge data set (``dataset1-photons``, ``dataset1-pions``,
    ``dataset2``, ``dataset3``)."""
    if name not in DATASETS:
        raise ValueError(f"unknown CaloChallenge data set {name!r} (known: {', '.join(DATASETS)})")
    xml, particle, spectrum, threshold, sim = DATASETS[name]
    found, layers = parse_binning(binning_file(name), particle)
    if sim is not None and len(sim.depth_x0) != len(layers):
        raise AssertionError(f"{name}: {len(sim.depth_x0)} depths for {len(layers)} layers")
    return CylindricalGeometry(name, found, layers, spectrum, threshold, sim)


def xml_geometry(
    path, particle: str | None = None, *, like: str = "dataset2"
) -> CylindricalGeometry:
    """A user's binning XML: voxels from the file, spectrum and feature threshold of ``like``;
    no simulation (its depths are unknown)."""
    found, layers = parse_binning(path, particle)
    _, _, spectrum, threshold, _ = DATASETS[like]
    return CylindricalGeometry(str(path), found, layers, spectrum, threshold, None)

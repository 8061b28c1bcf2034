"""An ILD-like silicon–tungsten sampling calorimeter: layers, materials, and what a shower sees.

The DCTR paper's calorimeter (arXiv:2009.03796, Sec. III.2; docs/science.md §2.4): 30 active silicon
layers read out in 30 × 30 cells of 5.088 mm, behind tungsten absorbers — 20 of 2.1 mm, then 10 of
4.2 mm (the ILD design; unconfirmed for the paper's data set), 0.5 mm of silicon and, per layer,
readout material (PCB, glue, carbon fibre) that adds distance but hardly any radiation length.
A layer's *slab* is its absorber, silicon and readout; silicon layer i records what develops in
slab i.

Material constants (PDG; docs/science.md §2.5): tungsten Z = 74, A = 183.84, ρ = 19.3 g/cm³,
X0 = 6.76 g/cm² = 3.50 mm, minimum ionisation 1.145 MeV cm²/g; silicon Z = 14, A = 28.09,
ρ = 2.33 g/cm³, X0 = 21.82 g/cm² = 93.7 mm, minimum ionisation 1.664 MeV cm²/g. Critical energy
E_c = 2.66 (X0 Z/A)^1.1 MeV (X0 in g/cm²), Molière radius R_M = X0 · 21.2 MeV / E_c.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Material:
    name: str
    Z: float
    A: float
    #: g/cm³
    density: float
    #: radiation length, g/cm²
    x0_g: float
    #: minimum-ionising energy loss, MeV cm²/g
    dedx_min: float

    @property
    def x0_mm(self) -> float:
        return 10.0 * self.x0_g / self.density

    @property
    def critical_energy(self) -> float:
        """E_c in MeV (Grindhammer–Peters' fit, used by GFlash)."""
        return 2.66 * (self.x0_g * self.Z / self.A) ** 1.1

    @property
    def moliere_mm(self) -> float:
        return self.x0_mm * 21.2 / self.critical_energy

    def mip_mev(self, thickness_mm: float) -> float:
        """Mean minimum-ionising energy loss in ``thickness_mm`` of this material (MeV)."""
        return self.dedx_min * self.density * thickness_mm / 10.0


TUNGSTEN = Material("W", 74.0, 183.84, 19.3, 6.76, 1.145)
SILICON = Material("Si", 14.0, 28.09, 2.33, 21.82, 1.664)


@dataclass(frozen=True)
class Calorimeter:
    """The calorimeter's geometry. Defaults: the ILD-like ECAL of the DCTR paper."""

    #: Cartesian cells (layer, x, y); CaloChallenge geometries are "cylindrical" (.challenge)
    kind = "cartesian"

    n_layers: int = 30
    n_cells: int = 30
    cell_mm: float = 5.088
    #: absorber thickness in front of each active layer (mm): 20 × 2.1, then 10 × 4.2
    absorber_mm: tuple[float, ...] = (2.1,) * 20 + (4.2,) * 10
    silicon_mm: float = 0.5
    #: readout material per layer (PCB, glue, carbon fibre, air): distance without radiation length
    readout_mm: float = 1.25
    #: cells below this energy are zeroed (half a MIP in 0.5 mm of silicon; 1 MIP ≈ 0.2 MeV)
    threshold_mev: float = 0.1
    name: str = "ild"

    def __post_init__(self):
        if len(self.absorber_mm) != self.n_layers:
            raise ValueError(
                f"Calorimeter: {len(self.absorber_mm)} absorber thicknesses for "
                f"{self.n_layers} layers"
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(layers, x cells, y cells) of one shower."""
        return (self.n_layers, self.n_cells, self.n_cells)

    @property
    def n_voxels(self) -> int:
        return self.n_layers * self.n_cells * self.n_cells

    @property
    def voxel_layout(self) -> str:
        return (
            f"{self.n_layers} layers x {self.n_cells} x {self.n_cells} cells, (layer, x, y) order"
        )

    def voxel_index(self, layer: np.ndarray, r_mm: np.ndarray, phi: np.ndarray) -> np.ndarray:
        """Voxel within the shower of a deposit in ``layer`` at radius ``r_mm`` and azimuth
        ``phi`` from the shower axis, which hits the centre of the face (a corner of four cells);
        −1 outside the cells."""
        half = self.n_cells / 2.0
        ix = np.floor(r_mm * np.cos(phi) / self.cell_mm + half)
        iy = np.floor(r_mm * np.sin(phi) / self.cell_mm + half)
        inside = (ix >= 0) & (ix < self.n_cells) & (iy >= 0) & (iy < self.n_cells)
        flat = (layer * self.n_cells + ix.astype(np.int64)) * self.n_cells + iy.astype(np.int64)
        return np.where(inside, flat, -1)

    @cached_property
    def slab_x0(self) -> np.ndarray:
        """Thickness of each slab (absorber + silicon) in radiation lengths."""
        return np.asarray(self.absorber_mm) / TUNGSTEN.x0_mm + self.silicon_mm / SILICON.x0_mm

    @cached_property
    def slab_edges_x0(self) -> np.ndarray:
        """Depth of the slab boundaries from the front face, in radiation lengths (n_layers + 1)."""
        return np.concatenate([[0.0], np.cumsum(self.slab_x0)])

    @cached_property
    def mip_fraction(self) -> np.ndarray:
        """Share of a minimum-ionising particle's energy loss in each slab that the silicon sees."""
        si = SILICON.mip_mev(self.silicon_mm)
        w = np.array([TUNGSTEN.mip_mev(d) for d in self.absorber_mm])
        return si / (si + w)

    @cached_property
    def slab_mm(self) -> np.ndarray:
        """Layer pitch: absorber, silicon and readout."""
        return np.asarray(self.absorber_mm) + self.silicon_mm + self.readout_mm

    @cached_property
    def moliere_mm(self) -> np.ndarray:
        """Molière radius of each slab in mm: the silicon and readout gaps widen the shower.

        A shower spreads by a fixed amount per radiation length; every slab packs its radiation
        lengths (almost all in tungsten) into the whole pitch, so R_M(W) × pitch / absorber.
        """
        return TUNGSTEN.moliere_mm * self.slab_mm / np.asarray(self.absorber_mm)

    def effective(self, layers: slice = slice(0, 20)) -> dict[str, float]:
        """The effective medium of ``layers`` (GFlash's sampling-calorimeter description).

        Returns Z_eff (mass-weighted), E_c (MeV, from the effective X0 and Z/A), the sampling
        frequency F_S = X0_eff / (d_active + d_passive) in mm⁻¹·mm (dimensionless as GFlash uses
        it, X0_eff in mm over the layer pitch) and ê = 1 / (1 + 0.007 (Z_passive − Z_active)).
        """
        d_w = float(np.mean(np.asarray(self.absorber_mm)[layers]))
        d_si = self.silicon_mm
        m_w, m_si = d_w * TUNGSTEN.density, d_si * SILICON.density
        w_w, w_si = m_w / (m_w + m_si), m_si / (m_w + m_si)
        z_eff = w_w * TUNGSTEN.Z + w_si * SILICON.Z
        a_eff = w_w * TUNGSTEN.A + w_si * SILICON.A
        x0_g_eff = 1.0 / (w_w / TUNGSTEN.x0_g + w_si / SILICON.x0_g)
        x0_mm_eff = (d_w + d_si) / (d_w / TUNGSTEN.x0_mm + d_si / SILICON.x0_mm)
        return {
            "Z": z_eff,
            "critical_energy": 2.66 * (x0_g_eff * z_eff / a_eff) ** 1.1,
            "F_S": x0_mm_eff / (d_w + d_si),
            "e_hat": 1.0 / (1.0 + 0.007 * (TUNGSTEN.Z - SILICON.Z)),
        }


#: The DCTR paper's ILD-like ECAL.
ILD = Calorimeter()

"""One place that turns a config's ``detector`` into a geometry object.

The geometry object serves the simulator, the file readers and writers, the features and the
classifiers alike:

- ``ild`` (or a mapping of the Cartesian ECAL's fields, for a variant of it): the DCTR paper's
  ILD-like ECAL, 30 layers of 30 × 30 cells (:class:`.geometry.Calorimeter`);
- ``dataset1-photons``, ``dataset1-pions``, ``dataset2``, ``dataset3``: a CaloChallenge
  geometry from its shipped binning file (:mod:`.challenge`);
- a path to a binning XML (``…/binning.xml`` or ``{xml: path, particle: name}``): a user's
  cylindrical geometry, read from the file (showers from files only).
"""

from __future__ import annotations

from collections.abc import Mapping

from .challenge import DATASETS, CylindricalGeometry, Spectrum, dataset_geometry, xml_geometry
from .geometry import ILD, Calorimeter

#: The names ``detector`` may take besides a mapping or an XML path.
NAMES = ("ild", *DATASETS)

Geometry = Calorimeter | CylindricalGeometry


def detector_from_config(detector) -> Geometry:
    """The geometry named (or described) by a config's ``detector`` value."""
    if isinstance(detector, Calorimeter | CylindricalGeometry):
        return detector
    if detector == "ild":
        return ILD
    if isinstance(detector, str) and detector in DATASETS:
        return dataset_geometry(detector)
    if isinstance(detector, str) and detector.endswith(".xml"):
        return xml_geometry(detector)
    if isinstance(detector, Mapping) and "xml" in detector:
        return xml_geometry(detector["xml"], detector.get("particle"))
    if isinstance(detector, Mapping):
        absorber = tuple(
            float(block["absorber_mm"]) for block in detector["layers"] for _ in range(block["n"])
        )
        return Calorimeter(
            n_layers=len(absorber),
            n_cells=int(detector["n_cells"]),
            cell_mm=float(detector["cell_mm"]),
            absorber_mm=absorber,
            silicon_mm=float(detector["silicon_mm"]),
            readout_mm=float(detector["readout_mm"]),
            threshold_mev=float(detector["threshold_mev"]),
            name=str(detector.get("name", "custom")),
        )
    raise ValueError(
        f"detector {detector!r}: one of {', '.join(NAMES)}, a binning XML path or a mapping of "
        "the Cartesian ECAL's fields"
    )


def spectrum_from_config(incident_energy, geometry: Geometry) -> Spectrum:
    """The incident-energy spectrum: a number (GeV, fixed), ``{discrete: [GeV, …]}``,
    ``{log_uniform: [low, high]}``, or ``None`` for the geometry's own (ILD: 50 GeV; dataset 1:
    15 powers of 2 from 256 MeV to 4.194 TeV; datasets 2 and 3: log-uniform 1 GeV–1 TeV)."""
    if incident_energy is None:
        if isinstance(geometry, CylindricalGeometry):
            return geometry.spectrum
        return Spectrum("discrete", (50.0,))
    if isinstance(incident_energy, int | float):
        return Spectrum("discrete", (float(incident_energy),))
    (kind, values), *rest = incident_energy.items()
    if rest:
        raise ValueError(f"incident_energy {incident_energy!r}: one of discrete or log_uniform")
    return Spectrum(kind, tuple(float(v) for v in values))

"""The registry of approaches: what a GANplifying study can compare, in one place.

Every approach has a name (the config's ``approaches`` entries), a label and a colour for the
figures, the folder of its per-run files under ``results/{study}/``, and says whether it is a
generator (scored on generated samples of growing size), how many generators it pools, and whose
events it reweights (the DCTR-weighted GANs: the same events, weighted towards the training
sample). The rules, the gather, the figures and the config validation all read this table; adding
an approach means adding its entry here and the job that writes its per-run files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Approach:
    """One way of estimating the truth density from a training sample."""

    name: str
    label: str
    color: str
    #: folder of the per-run files, ``results/{study}/{folder}/{i}.h5``
    folder: str
    #: generated events of growing size (a quantile-error curve), not a fixed-size estimate
    generator: bool = False
    #: the ``gan`` config key that gives the number of pooled generators; None: one
    members_key: str | None = None
    #: the generator approach whose events this one reweights with DCTR (None: trained itself)
    reweights: str | None = None

    @property
    def trained(self) -> bool:
        """A generator trained by this study (not the reweighted events of another)."""
        return self.generator and self.reweights is None

    def members(self, gan_cfg: Mapping) -> int:
        """Number of generators whose events this approach pools (1 for a single GAN)."""
        return int(gan_cfg[self.members_key]) if self.members_key else 1


#: Every approach, in the order of the tables and legends.
APPROACHES: dict[str, Approach] = {
    a.name: a
    for a in (
        Approach("sample", "Sample", "tab:blue", "samples"),
        Approach("fit", "5-parameter fit", "tab:green", "fits"),
        Approach("gan", "GAN", "tab:orange", "gan", generator=True),
        Approach(
            "ensemble",
            "GAN ensemble",
            "tab:red",
            "ensemble",
            generator=True,
            members_key="ensemble_members",
        ),
        Approach(
            "gan_dctr", "GAN + DCTR", "tab:purple", "gan_dctr", generator=True, reweights="gan"
        ),
        Approach(
            "ensemble_dctr",
            "GAN ensemble + DCTR",
            "tab:brown",
            "ensemble_dctr",
            generator=True,
            members_key="ensemble_members",
            reweights="ensemble",
        ),
    )
}

#: Colour of the truth density in every figure.
TRUTH_COLOR = "black"


def generators(names) -> list[str]:
    """The generator approaches among ``names``, in the given order."""
    return [n for n in names if APPROACHES[n].generator]


def trained(names) -> list[str]:
    """The generators among ``names`` that the study trains (not reweights)."""
    return [n for n in names if APPROACHES[n].trained]


def label(name: str) -> str:
    """Legend label of approach ``name`` (the name itself for anything unregistered)."""
    return APPROACHES[name].label if name in APPROACHES else name


def color(name: str) -> str:
    """Colour of approach ``name`` (grey for anything unregistered)."""
    return APPROACHES[name].color if name in APPROACHES else "0.3"

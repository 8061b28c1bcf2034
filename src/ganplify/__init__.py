"""ganplify: how much statistical power does a generative model add?

The scientific API lives in small modules, each named for what it holds:

- :mod:`ganplify.truth`       truth densities (camel back) and the two-Gaussian mixture
- :mod:`ganplify.quantiles`   exact quantile cells, cell fractions, the quantile MSE
- :mod:`ganplify.equivalence` expected errors, equivalent events, amplification, intervals
- :mod:`ganplify.fits`        unbinned maximum-likelihood fits with iminuit
- :mod:`ganplify.seeding`     random streams derived from the study seed and a job's identity
- :mod:`ganplify.io`          HDF5 outputs (atomic writes, provenance attributes)
- :mod:`ganplify.studies`     a study's configuration turned into truth and quantile edges
- :mod:`ganplify.gather`      per-run files gathered into tables
- :mod:`ganplify.plots`       the figures

Heavy dependencies (matplotlib, torch) are imported only by the modules that need them, so a
Snakemake job that fits 100 points does not pay for them.
"""

__version__ = "0.1.0"

"""ganplify: how much statistical power does a generative model add, and how do we correct it?

The package is built in floors; a module imports only from its own part and the floors below it,
and parts on the same floor meet only in the jobs layer:

1. ``core``          what every part uses: configuration, seeds, files, checkpoints, job runtime
2. ``densities``     truth densities, sampled and evaluated exactly
3. ``gan``, ``amplification``, ``dctr``, ``calo``   the science, each part on its own (arrays
                     and dataclasses in, arrays and rows out: no config dicts; only
                     ``calo.formats`` reads and writes files, the field's shower formats)
4. ``jobs``          one module per ``rules/<stage>.smk``: reads files and the config, wires the
                     science together, writes files
5. ``cli``           the ``ganplify`` command: single tasks on a user's files, through the same
                     functions as the jobs

Every module, by part:

- :mod:`ganplify.core.config`       config validation naming the key; merge; settings dataclasses
- :mod:`ganplify.core.approaches`   the registry of approaches (labels, colours, folders)
- :mod:`ganplify.core.seeding`      random streams from the study seed and a job's identity
- :mod:`ganplify.core.events`       which events a number was computed on; evaluation splits
- :mod:`ganplify.core.io`           HDF5 (atomic, with provenance) and CSV outputs
- :mod:`ganplify.core.checkpoint`   atomic checkpoints that resume only their own training
- :mod:`ganplify.core.runtime`      job logging, stop signals, fault injection, exit code 75
- :mod:`ganplify.core.slurm`        SLURM requests no node can satisfy, found before submission
- :mod:`ganplify.core.progress`     progress bars of the command line's long steps
- :mod:`ganplify.core.plotting`     the figures' style, without global matplotlib state
- :mod:`ganplify.core.nets`         a plain MLP and seeded initialisation (shared torch helpers)
- :mod:`ganplify.densities.truth`   camel back, ring and n-D shells (exact pdf, cdf, marginals)
- :mod:`ganplify.densities.toys`    the DCTR paper's Gaussian-mixture toys (exact pdf)
- :mod:`ganplify.gan.models`        the paper's GAN for K members at once (batched layers)
- :mod:`ganplify.gan.training`      the batched training engine (CUDA graphs, exact resume)
- :mod:`ganplify.gan.reference`     a literal single-GAN implementation (cross-check, baseline)
- :mod:`ganplify.gan.toy`           the DCTR paper's small toy GAN
- :mod:`ganplify.amplification.quantiles`    exact quantile edges, cell fractions, quantile MSE
- :mod:`ganplify.amplification.cells`        a truth's cells in its natural coordinates; its fit
- :mod:`ganplify.amplification.equivalence`  expected errors, equivalent events, amplification
- :mod:`ganplify.amplification.fits`         unbinned maximum-likelihood fits with iminuit
- :mod:`ganplify.amplification.saturation`   where a generator's error curve saturates
- :mod:`ganplify.amplification.observables`  N_eq of a sample's observables (a shower generator)
- :mod:`ganplify.amplification.forecast`     amplification forecast from a bootstrap ensemble
- :mod:`ganplify.amplification.unbinned`     the unbinned route: Cramér–von Mises N_eq
- :mod:`ganplify.amplification.tables`       rows of every table, with the CSV column contracts
- :mod:`ganplify.amplification.figures`      the GANplifying figures
- :mod:`ganplify.dctr.classifiers`  the classifier kinds (boosted, mlp): settings and training
- :mod:`ganplify.dctr.boosted`      the boosted-tree classifier (histogram gradient boosting)
- :mod:`ganplify.dctr.classifier`   the truth-vs-generated MLP classifier (early stopping, weights)
- :mod:`ganplify.dctr.calibration`  none / temperature / isotonic calibration of its outputs
- :mod:`ganplify.dctr.weights`      w = h/(1 − h): clip, cap, normalise; N_eff and diagnostics
- :mod:`ganplify.dctr.raking`       raking (IPF) tables: weights whose marginals are the truth's
- :mod:`ganplify.dctr.crossfit`     k-fold cross-fitting: every event weighted out of fold
- :mod:`ganplify.dctr.reweighter`   the reweighter as a stored function: fit, weights, save, load
- :mod:`ganplify.dctr.judge`        the judge of a weight set, with its controls
- :mod:`ganplify.dctr.metrics`      S², dilution r, eq. 9, AUC, JSD
- :mod:`ganplify.dctr.distances`    the CaloChallenge's FPD and KPD (jetnet's definitions)
- :mod:`ganplify.dctr.prdc`         precision, recall, density, coverage; with event weights
- :mod:`ganplify.dctr.challenge_classifier`  the CaloChallenge's classifier metric (cls-high/low)
- :mod:`ganplify.dctr.lowlevel`     the paper's 3D-CNN low-level classifier and its training loop
- :mod:`ganplify.dctr.figures`      Figs. 1–8: toys, ratio panels, weights, correlations, summaries
- :mod:`ganplify.calo.geometry`     the ILD-like Si-W calorimeter: slabs, X0, sampling, R_M
- :mod:`ganplify.calo.challenge`    CaloChallenge geometries from the binning XML; spectra
- :mod:`ganplify.calo.detector`     a config's ``detector`` → one geometry object; spectra
- :mod:`ganplify.calo.simulator`    Grindhammer–Peters (GFlash) showers; the fast stand-in
- :mod:`ganplify.calo.formats`      getting_high and CaloChallenge HDF5, chunked; bad-file errors
- :mod:`ganplify.calo.features`     HL inputs, layer differences, second moments; feature sets
- :mod:`ganplify.calo.challenge_features`  the CaloChallenge's high-level features, cls-high
- :mod:`ganplify.calo.streaming`    shower batches from HDF5 through a DataLoader (LL classifier)
- :mod:`ganplify.calo.learned`      a learned shower generator: a conditional VAE, exact resume
- :mod:`ganplify.calo.flow`         a second one: conditional flow matching, calibrated hits
- :mod:`ganplify.jobs.common`       truth from the config; the per-run file layout
- :mod:`ganplify.jobs.sample`       rules/sample.smk
- :mod:`ganplify.jobs.fit`          rules/fit.smk
- :mod:`ganplify.jobs.gan`          rules/gan.smk
- :mod:`ganplify.jobs.gather`       rules/gather.smk
- :mod:`ganplify.jobs.plots`        rules/plots.smk
- :mod:`ganplify.jobs.dctr_toys`    rules/dctr_toys.smk
- :mod:`ganplify.jobs.calo_showers`      rules/calo_showers.smk
- :mod:`ganplify.jobs.calo_generator`    rules/calo_generator.smk
- :mod:`ganplify.jobs.calo_amplification`  rules/calo_amplification.smk
- :mod:`ganplify.jobs.calo_classifiers`  rules/calo_classifiers.smk
- :mod:`ganplify.jobs.calo_summary`      rules/calo_summary.smk
- :mod:`ganplify.jobs.dctr_amplification`  rules/dctr_amplification.smk
- :mod:`ganplify.jobs.forecast`          rules/forecast.smk
- :mod:`ganplify.jobs.calo_forecast`     rules/calo_forecast.smk
- :mod:`ganplify.cli.main`          the ``ganplify`` command and its subcommands (argparse)
- :mod:`ganplify.cli.evaluate`      ``ganplify evaluate``: read, check, score, write
- :mod:`ganplify.cli.figures`       the figures of ``ganplify evaluate``
- :mod:`ganplify.cli.reweight`      ``ganplify reweight``: fit a stored reweighter, apply it

Heavy dependencies (matplotlib, torch) are imported only by the modules that need them, so a job
that fits 100 points does not pay for them. Importing any module changes no global state.
"""

__version__ = "0.1.0"

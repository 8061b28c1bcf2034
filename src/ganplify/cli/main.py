"""The ``ganplify`` command: single tasks without a workflow config.

``ganplify evaluate`` scores a generator's showers (a CaloChallenge file, optionally with
per-shower weights) against a reference file, in the conventions of the challenge's
``evaluate.py``; ``ganplify reweight fit`` fits the stored DCTR reweighter of a generator's file
towards a reference file and ``ganplify reweight apply`` weights new showers with it
(:mod:`.reweight`). Subcommands are registered in :data:`COMMANDS`, each a function that adds its
parser and one that runs it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap

from . import evaluate as ev

EVALUATE_HELP = "score a generator's showers against reference showers (CaloChallenge format)"

EVALUATE_DESCRIPTION = textwrap.dedent(
    """\
    Score a generator's calorimeter showers against reference (Geant4) showers of the same
    CaloChallenge data set, as the challenge's evaluate.py does, and with the project's
    additions. Both files are in the challenge's format: 'incident_energies' (N, 1) in MeV and
    'showers' (N, voxels) in MeV. With --weights (one weight per generated shower, e.g. DCTR
    weights) the generator is scored as the weighted sample, and the cheap metrics also without
    the weights.

    Metrics (--metrics, default all):
      hist      separation power S^2 of every high-level feature and of the voxel energies, in
                the challenge's histograms (0: identical, 1: disjoint)
      fpd, kpd  Frechet and kernel physics distances of the cls-high vectors (x 10^3, with
                errors; the challenge's settings)
      judge     the project's boosted-tree judge on the cls-high vectors: held-out AUC, and
                with weights its null control (settings: dctr.judge of --config)
      cls-high  the challenge's classifier metric on its high-level vector: its network
                (3 x 2048, LeakyReLU), splits, 50 epochs, best epoch by test accuracy,
                isotonic calibration; AUC and JSD on the validation split
                (0.5 and 0: indistinguishable)
      cls-low   the same on [log10 E_inc, voxels / E_inc]
      prdc      precision, recall, density and coverage (k = 5) on log10 of the voxels

    Files are read in chunks and checked (voxel count of the data set, NaN, negative
    energies, mismatched lengths) before any training. Writes scores.csv (one row per metric),
    s2.csv, the classifiers' histories and PNG figures into --out.
    """
)

EVALUATE_EPILOG = textwrap.dedent(
    """\
    examples:
      ganplify evaluate -r dataset_1_photons_2.hdf5 -i my_gen.hdf5 -d 1-photons --out eval/
      ganplify evaluate -r ref.h5 -i gen.h5 -d 2 --weights dctr_weights.h5 --out eval/
      ganplify evaluate -r ref.h5 -i gen.h5 -d 1-photons --metrics cls-high fpd kpd --out eval/

    The challenge's classifier trains a 3 x 2048 network in float64 for 50 epochs on 160,000
    showers (dataset 1): about a GPU-hour's work, many hours on a few CPU cores; --cls-n-epochs
    and --metrics shorten it. PRDC on all showers of dataset 1 holds 2 x 0.36 GB of inputs and
    computes 3 x 121,000^2 distances; --prdc-showers caps it (its values depend on the number
    of showers).
    """
)


def add_evaluate(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help=EVALUATE_HELP,
        description=EVALUATE_DESCRIPTION,
        epilog=EVALUATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    files = p.add_argument_group("files")
    files.add_argument(
        "--reference",
        "-r",
        required=True,
        metavar="REF.h5",
        help="reference showers (Geant4), CaloChallenge format",
    )
    files.add_argument(
        "--generated",
        "--input_file",
        "-i",
        required=True,
        metavar="GEN.h5",
        help="the generator's showers, CaloChallenge format",
    )
    files.add_argument(
        "--dataset",
        "-d",
        required=True,
        choices=list(ev.DATASETS),
        help="the CaloChallenge data set both files belong to",
    )
    files.add_argument(
        "--weights",
        "-w",
        metavar="W.h5",
        help="per-shower weights of the generated file (HDF5, one per shower, in its order)",
    )
    files.add_argument(
        "--weights-key",
        default="weights",
        metavar="NAME",
        help="the dataset of the weights file that holds the weights (default: %(default)s)",
    )
    files.add_argument(
        "--out",
        "--output_dir",
        required=True,
        metavar="DIR",
        help="folder for scores.csv, s2.csv and the figures (created if missing)",
    )
    what = p.add_argument_group("what to compute")
    what.add_argument(
        "--metrics",
        "-m",
        nargs="+",
        choices=list(ev.METRICS),
        default=list(ev.METRICS),
        metavar="METRIC",
        help=f"any of {', '.join(ev.METRICS)} (default: all)",
    )
    what.add_argument(
        "--seed",
        type=int,
        metavar="N",
        default=2008065,
        help="every random stream (splits, networks, bootstraps) derives from it "
        "(default: %(default)s)",
    )
    cls = p.add_argument_group("the challenge's classifier (its --cls_ options)")
    defaults = ev.ChallengeClassifierConfig()
    cls.add_argument(
        "--cls-n-epochs", type=int, metavar="N", default=defaults.epochs, help="(default: 50)"
    )
    cls.add_argument(
        "--cls-n-layer", type=int, metavar="N", default=defaults.n_layer, help="(default: 2)"
    )
    cls.add_argument(
        "--cls-n-hidden", type=int, metavar="N", default=defaults.n_hidden, help="(default: 2048)"
    )
    cls.add_argument(
        "--cls-batch-size",
        type=int,
        metavar="N",
        default=defaults.batch_size,
        help="(default: 1000)",
    )
    cls.add_argument(
        "--cls-lr", type=float, metavar="LR", default=defaults.lr, help="(default: 2e-4)"
    )
    cls.add_argument(
        "--cls-dropout-probability",
        type=float,
        metavar="P",
        default=defaults.dropout,
        help="(default: 0)",
    )
    other = p.add_argument_group("the other metrics")
    other.add_argument(
        "--prdc-k", type=int, metavar="K", default=5, help="nearest neighbours of PRDC (default: 5)"
    )
    other.add_argument(
        "--prdc-showers",
        type=int,
        metavar="N",
        help="PRDC on N showers of each file, drawn at random (default: all)",
    )
    other.add_argument(
        "--config",
        metavar="CONFIG.yaml",
        help="the config whose dctr section sets the tree judge (default: the repository's "
        "config.yaml)",
    )
    run = p.add_argument_group("running")
    run.add_argument(
        "--threads",
        type=int,
        metavar="N",
        default=ev.available_threads(),
        help="CPU threads (default: the CPUs this process may use, %(default)s)",
    )
    run.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="where the challenge's network trains (default: a GPU if there is one)",
    )
    run.add_argument(
        "--chunk",
        type=int,
        metavar="N",
        default=2000,
        help="showers read at a time (default: 2000)",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    run.add_argument("--no-figures", action="store_true", help="the CSV files only")
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    metrics = list(dict.fromkeys(args.metrics))
    judge = None
    if "judge" in metrics:
        judge = ev.judge_from_config(args.config or ev.default_config_path())
    device = args.device
    if device == "auto" or "cls-high" in metrics or "cls-low" in metrics:
        import torch

        torch.set_num_threads(args.threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
    settings = ev.Settings(
        dataset=args.dataset,
        metrics=metrics,
        classifier=ev.ChallengeClassifierConfig(
            n_layer=args.cls_n_layer,
            n_hidden=args.cls_n_hidden,
            dropout=args.cls_dropout_probability,
            batch_size=args.cls_batch_size,
            epochs=args.cls_n_epochs,
            lr=args.cls_lr,
        ),
        judge=judge,
        prdc_k=args.prdc_k,
        prdc_showers=args.prdc_showers,
        seed=args.seed,
        threads=args.threads,
        device=device,
        chunk=args.chunk,
        show_progress=not args.quiet,
        figures=not args.no_figures,
    )
    rows = ev.evaluate(
        args.reference,
        args.generated,
        args.out,
        settings,
        weights=args.weights,
        weights_key=args.weights_key,
    )
    print(f"\n{'metric':<28}{'weighted':>9}{'value':>12}{'error':>11}")
    for r in rows:
        error = f"{r['error']:.3g}" if r["error"] != "" else ""
        print(
            f"{r['metric']:<28}{'yes' if r['weighted'] else 'no':>9}{r['value']:>12.4f}{error:>11}"
        )
    print(f"\nWritten to {args.out}/ (scores.csv, s2.csv, figures)")
    return 0


REWEIGHT_HELP = "fit the DCTR reweighter of a generator's showers, or weight new showers with it"

REWEIGHT_DESCRIPTION = textwrap.dedent(
    """\
    DCTR reweighting of a generator's calorimeter showers towards reference (Geant4) showers
    of the same CaloChallenge data set: a classifier h learns to tell reference (label 1) from
    generated showers (label 0) on their high-level features (the challenge's cls-high
    vector: log10 E_inc, layer energies, centres, widths, sparsity), and each generated shower
    gets the weight w = h / (1 - h), capped and normalised. Because the inputs hold the
    incident energy, the weights are conditional, w(x | E).

      fit     fit the reweighter on two files and store it; weights and a first check
      apply   weight the showers of another file of the same generator with a stored one

    Both are the workflow's own steps (the study of config/calochallenge.yaml); run
    'ganplify reweight fit --help' for the details.
    """
)

FIT_DESCRIPTION = textwrap.dedent(
    """\
    Fit the DCTR reweighter of the generator's showers (--generated) towards the reference
    showers (--reference), store it, and check it on showers it never saw.

    Of each file a random share (--evaluation-fraction, default the config's
    calorimeter.evaluation_fraction, 0.5) is held out for evaluation, drawn from the config's
    seed: the same showers on every run. The rest, the fitting showers, trains the classifier:
    the config's high-level reweighter (calorimeter.hl and dctr: boosted trees by default),
    cross-fitted over dctr.folds folds, so that each fitting shower also gets a weight from
    classifiers that never saw it.

    The stored reweighter then weights the generator's evaluation showers, and the judge -
    fresh boosted trees (dctr.judge) trained and scored on held-out halves - tells the
    reference's evaluation showers from them. Its AUC is 0.5 when the weights make the
    generator indistinguishable (as far as trees on cls-high can tell), with two controls:
    the same judge on the unweighted showers (what the weights changed), and reference
    against reference carrying the weights (about 0.5 whatever the weights).

    Files are in the challenge's format ('incident_energies' (N, 1) in MeV, 'showers'
    (N, voxels) in MeV), checked before any work (voxel count of the data set, incident
    energies, NaN, negative energies, lengths) and read in chunks. Writes into --out:
      reweighter.h5         the stored reweighter (for 'ganplify reweight apply')
      weights.h5            'weights': the fitting showers' (out of fold); 'evaluation/weights':
                            the evaluation showers'; 'fit/generated_index' and
                            'evaluation/generated_index': which showers of --generated they are
      judge.h5              the judge's AUCs and outputs
      features/             the showers' features, and which are evaluation showers
    """
)

FIT_EPILOG = textwrap.dedent(
    """\
    examples:
      ganplify reweight fit -r dataset_1_photons_1.hdf5 -i my_gen.hdf5 -d 1-photons --out rw/
      ganplify reweight fit -r ref.h5 -i gen.h5 -d 2 --evaluation-fraction 0.3 --out rw/
      ganplify reweight fit -r ref.h5 -i gen.h5 -d 2 --config my_settings.yaml --out rw/

    Then weight more showers of the same generator, and score them against a second reference
    file:
      ganplify reweight apply --model rw/reweighter.h5 -i my_gen_2.hdf5 -d 1-photons \\
          --out my_gen_2_weights.h5
      ganplify evaluate -r dataset_1_photons_2.hdf5 -i my_gen_2.hdf5 -d 1-photons \\
          --weights my_gen_2_weights.h5 --out eval/
    """
)

APPLY_DESCRIPTION = textwrap.dedent(
    """\
    Weight every shower of a file (--generated) with a stored reweighter (--model, from
    'ganplify reweight fit' or a workflow run's reweighter_hl.h5): no refit. The showers must
    come from the generator the reweighter was fitted on, and be of the same data set.

    The model file is refused, with its name, when it was changed or damaged after it was
    written (its checksum), written by another ganplify version, or fitted on other inputs
    than this data set's (e.g. a dataset 2 model on dataset 1 showers). The showers file is
    checked before any work, as 'fit' checks its files.

    Writes --out (HDF5): 'weights', one per shower in the file's order (what 'ganplify
    evaluate --weights' reads), and 'h', the calibrated classifier output.
    """
)


def _add_files(group, *, reference: bool) -> None:
    if reference:
        group.add_argument(
            "--reference",
            "-r",
            required=True,
            metavar="REF.h5",
            help="reference showers (Geant4), CaloChallenge format",
        )
    group.add_argument(
        "--generated",
        "--input_file",
        "-i",
        required=True,
        metavar="GEN.h5",
        help="the generator's showers, CaloChallenge format",
    )
    group.add_argument(
        "--dataset",
        "-d",
        required=True,
        choices=list(ev.DATASETS),
        help="the CaloChallenge data set of the showers",
    )


def _add_running(group) -> None:
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        default=ev.available_threads(),
        help="CPU threads (default: the CPUs this process may use, %(default)s)",
    )
    group.add_argument(
        "--chunk",
        type=int,
        metavar="N",
        default=10_000,
        help="showers read and turned into features at a time (default: %(default)s)",
    )
    group.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def add_reweight(subparsers) -> None:
    p = subparsers.add_parser(
        "reweight",
        help=REWEIGHT_HELP,
        description=REWEIGHT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(title="steps", dest="step", required=True, metavar="STEP")

    fit = sub.add_parser(
        "fit",
        help="fit the reweighter on reference and generated showers, store it, weight, judge",
        description=FIT_DESCRIPTION,
        epilog=FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    files = fit.add_argument_group("files")
    _add_files(files, reference=True)
    files.add_argument(
        "--out",
        "--output_dir",
        required=True,
        metavar="DIR",
        help="folder for reweighter.h5, weights.h5, judge.h5 and features/ (created if missing)",
    )
    how = fit.add_argument_group("the fit")
    how.add_argument(
        "--evaluation-fraction",
        type=float,
        metavar="F",
        help="share of each file's showers held out for evaluation, at random from the seed "
        "(default: the config's calorimeter.evaluation_fraction)",
    )
    how.add_argument(
        "--config",
        nargs="+",
        default=[],
        metavar="CONFIG.yaml",
        help="config files merged over the repository's config.yaml, as snakemake "
        "--configfile merges them: the seed, the reweighter (calorimeter.hl, dctr) and the "
        "judge (dctr.judge) (default: config.yaml alone)",
    )
    _add_running(fit.add_argument_group("running"))
    fit.set_defaults(run=run_reweight_fit)

    app = sub.add_parser(
        "apply",
        help="weight the showers of another file of the generator with a stored reweighter",
        description=APPLY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    files = app.add_argument_group("files")
    files.add_argument(
        "--model",
        "-m",
        required=True,
        metavar="REWEIGHTER.h5",
        help="the stored reweighter: reweighter.h5 of 'ganplify reweight fit'",
    )
    _add_files(files, reference=False)
    files.add_argument(
        "--out",
        "-o",
        required=True,
        metavar="WEIGHTS.h5",
        help="the weights file to write",
    )
    _add_running(app.add_argument_group("running"))
    app.set_defaults(run=run_reweight_apply)


def run_reweight_fit(args) -> int:
    from . import reweight as rw

    settings = rw.FitSettings(
        dataset=args.dataset,
        config=rw.read_config(args.config),
        evaluation_fraction=args.evaluation_fraction,
        threads=args.threads,
        chunk=args.chunk,
        show_progress=not args.quiet,
    )
    r = rw.fit(args.reference, args.generated, args.out, settings)
    (ref_eval, ref_n), (gen_eval, gen_n) = r["split"]["reference"], r["split"]["generated"]
    d, j = r["evaluation_diagnostics"], r["judge"]
    spec = r["spec"]
    print(
        f"\nHeld out for evaluation, at random from the seed ({r['seed']}): "
        f"{100 * r['fraction']:g} % of each file:\n"
        f"  reference {ref_eval} of {ref_n} showers, generated {gen_eval} of {gen_n}.\n"
        f"Reweighter ({spec['classifier']['kind']}, {spec['folds']} folds, calibration "
        f"{spec['calibration']}, cap {spec['weights']['cap']}) fitted on the other "
        f"{ref_n - ref_eval} + {gen_n - gen_eval} showers in {r['fit_seconds']:.0f} s\n"
        f"  (its out-of-fold AUC on them, {r['fit_auc']:.3f}, is a diagnostic, not a score).\n"
        f"Weights of the {d['n']} evaluation showers: N_eff/N {d['n_eff_fraction']:.3f}, "
        f"median {d['median']:.3g}, largest {d['max']:.3g}, capped {d['n_capped']}.\n"
        f"\nThe judge ({j['trees']} boosted trees; the evaluation showers, held-out halves):\n"
        f"  {'reference vs weighted generated':<40}AUC {j['auc']:.3f} ± {j['auc_err']:.3f}\n"
        f"  {'reference vs unweighted generated':<40}AUC {j['auc_unweighted']:.3f} ± "
        f"{j['auc_unweighted_err']:.3f}   (control: what the weights changed)\n"
        f"  {'reference vs reference with the weights':<40}AUC {j['auc_null']:.3f} ± "
        f"{j['auc_null_err']:.3f}   (control: about 0.5 whatever the weights)\n"
        f"0.5: indistinguishable; a first check only, for the full scores run "
        f"'ganplify evaluate' with the weights.\n"
    )
    files = r["files"]
    print(
        f"Written to {args.out}/: {files['model'].name} (the stored reweighter), "
        f"{files['weights'].name}, {files['judge'].name}, features/"
    )
    return 0


def run_reweight_apply(args) -> int:
    from . import reweight as rw

    settings = rw.ApplySettings(
        dataset=args.dataset, threads=args.threads, chunk=args.chunk, show_progress=not args.quiet
    )
    r = rw.apply(args.model, args.generated, args.out, settings)
    d = r["diagnostics"]
    print(
        f"\nWeights of {r['n']} showers: N_eff/N {d['n_eff_fraction']:.3f}, median "
        f"{d['median']:.3g}, largest {d['max']:.3g}, capped {d['n_capped']}.\n"
        f"Written to {args.out} (dataset 'weights', one per shower in the file's order)"
    )
    if r["n_fitting_showers"]:
        print(
            f"WARNING: {r['n_fitting_showers']} of them were showers the reweighter was fitted "
            "on: their weights are in sample (dataset 'fitting_shower')"
        )
    return 0


#: subcommand → the function that adds its parser
COMMANDS = {"evaluate": add_evaluate, "reweight": add_reweight}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ganplify",
        description="ganplify: how much is a generative model's sample worth, and how far does "
        "reweighting correct it? Single tasks from the command line; the full studies run "
        "through Snakemake (see the documentation).",
    )
    from .. import __version__

    p.add_argument("--version", action="version", version=f"ganplify {__version__}")
    sub = p.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS.values():
        add(sub)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return args.run(args)
    except (ev.EvaluateError, ValueError) as err:  # bad input: a named problem, no traceback
        command = " ".join(filter(None, (args.command, getattr(args, "step", None))))
        print(f"ganplify {command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

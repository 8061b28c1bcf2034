"""The ``ganplify`` command: single tasks without a workflow config.

``ganplify evaluate`` scores a generator's showers (a CaloChallenge file, optionally with
per-shower weights) against a reference file, in the conventions of the challenge's
``evaluate.py``. Subcommands are registered in :data:`COMMANDS`, each a function that adds its
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


#: subcommand → the function that adds its parser
COMMANDS = {"evaluate": add_evaluate}


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
        print(f"ganplify {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

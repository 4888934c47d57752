"""``reproduce``, ``saliency`` and ``targets``: the studies behind the results pages."""

from __future__ import annotations

import argparse
import sys

from .. import config
from ..datasets import DATASET_NAMES, DataSourceError
from ..studies._request import (
    COMPARISON_FILE,
    DEFAULT_OUT,
    LAYERS,
    REFERENCE_FILE,
    REFERENCE_PERCENTS,
    ROWS_FILE,
    ReproduceError,
    check_dataset,
    check_layer,
    check_percent,
    check_request,
)
from ._common import alpha, argparse_type, positive_int


def _reproduce_command(args) -> int:
    """Run ``python -m cladec reproduce`` from parsed arguments; return the exit code."""
    request = dict(
        datasets=args.datasets,
        layers=args.layers,
        alphas=args.alphas,
        profile=args.profile,
        out=args.out,
        eval_images=args.eval_images,
        eval_epochs=args.eval_epochs,
        n_train=args.n_train,
        n_test=args.n_test,
    )
    try:
        check_request(**request)  # a bad folder or CLADEC_PROFILE, before TensorFlow loads
    except ReproduceError as exc:
        args.reproduce_parser.error(str(exc))  # exits with status 2
    from ..studies.reproduce import run_reproduce

    try:
        result = run_reproduce(
            **request,
            evaluate_accuracy=args.evaluate_accuracy,
            seed=args.seed,
            verbose=0 if args.quiet else 1,
            resume=args.resume,
        )
    except DataSourceError as exc:
        print(f"python -m cladec reproduce: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\ninterrupted; rerun the same command to resume: finished models are in the cache",
            file=sys.stderr,
        )
        return 130
    if args.quiet:
        print(result.report(), flush=True)
    return 0


def add_reproduce_parser(commands) -> None:
    """Add ``reproduce`` to the subcommands ``commands``."""
    parser = commands.add_parser(
        "reproduce",
        help="run the reference evaluation and compare with the reference table",
        description=(
            "Train (or load from the model cache) the classifier, the reference autoencoder and "
            "one ClaDec decoder per alpha for each dataset and layer, evaluate them as the "
            "reference run did, and compare with its table. Rerunning resumes from the cache."
        ),
        epilog=(
            f"Writes {ROWS_FILE}, {REFERENCE_FILE} (the reference layout, with provenance) and "
            f"{COMPARISON_FILE} into --out, and prints the claims of the reference evaluation "
            "checked on this run (cladec.claims). Only --profile full is comparable with the "
            "reference."
        ),
    )
    percents = " ".join(format(p, "g") for p in REFERENCE_PERCENTS)
    parser.add_argument(
        "--datasets",
        nargs="+",
        metavar="DATASET",
        type=argparse_type(check_dataset, "dataset"),
        default=None,
        help=f"datasets to run (default: {' '.join(DATASET_NAMES)})",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        metavar="LAYER",
        type=argparse_type(check_layer, "layer"),
        default=None,
        help=f"layers to explain (default: {' '.join(LAYERS)})",
    )
    parser.add_argument(
        "--alphas",
        nargs="+",
        metavar="PERCENT",
        type=argparse_type(check_percent, "alpha"),
        default=None,
        help=f"ClaDec alphas in percent, as the reference columns (default: {percents})",
    )
    parser.add_argument(
        "--profile",
        choices=config.PROFILE_NAMES,
        default=None,
        help="run profile (default: $CLADEC_PROFILE, else full); quick is not comparable "
        "with the reference",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder, created if needed (default: ./{DEFAULT_OUT})",
    )
    _add_evaluation_options(parser)
    parser.set_defaults(func=_reproduce_command, reproduce_parser=parser)


def _add_evaluation_options(parser) -> None:
    """The options of ``reproduce`` that set how the models are scored and what is printed."""
    count = argparse_type(positive_int, "count")
    parser.add_argument(
        "--no-eval-accuracy",
        dest="evaluate_accuracy",
        action="store_false",
        help="skip the evaluation accuracy (a fresh classifier trained on reconstructions)",
    )
    parser.add_argument(
        "--eval-images",
        type=count,
        default=None,
        metavar="N",
        help="train the evaluation classifiers on at most N training reconstructions "
        "(default: all of the profile's slice)",
    )
    parser.add_argument(
        "--eval-epochs",
        type=count,
        default=None,
        metavar="N",
        help="epochs of each evaluation classifier (default: the profile's; full: 10, "
        "as the reference)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every model (default: 0)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the (dataset, layer) pairs that an interrupted run with the same "
        "settings finished in --out, even where the model cache lacks their models",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only the closing summary, not the per-epoch progress",
    )
    # Hidden: cut the profile's data slice further (tests and smoke runs).
    parser.add_argument("--n-train", type=count, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n-test", type=count, default=None, help=argparse.SUPPRESS)


def _add_datasets_argument(parser) -> None:
    parser.add_argument(
        "--datasets",
        nargs="+",
        metavar="DATASET",
        type=argparse_type(check_dataset, "dataset"),
        default=list(DATASET_NAMES),
        help=f"datasets (default: {' '.join(DATASET_NAMES)})",
    )


def add_saliency_parser(commands) -> None:
    """Add ``saliency`` to the subcommands ``commands``."""
    count = argparse_type(positive_int, "count")
    parser = commands.add_parser(
        "saliency",
        help="compare ClaDec with saliency maps: deletion/insertion areas, randomisation test",
        description=(
            "Computes gradient, SmoothGrad, Integrated Gradients and Grad-CAM maps and ClaDec's "
            "maps (my_dense, alpha 0.99) of the perfect classifier, their deletion and "
            "insertion areas with a random and an ink baseline, and, on MNIST, the "
            "model-parameter randomisation test."
        ),
        epilog="Writes faithfulness.csv, randomisation.csv and their figures into --out.",
    )
    _add_datasets_argument(parser)
    parser.add_argument("--digits", type=count, default=1000, help="test images (default 1000)")
    parser.add_argument(
        "--sanity-digits", type=count, default=200, help="test images of the randomisation test"
    )
    parser.add_argument("--profile", choices=config.PROFILE_NAMES, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/results/saliency", metavar="DIR")
    parser.set_defaults(func=_saliency_command)


def _saliency_command(args) -> int:
    from ..studies.saliency_study import run_saliency_study

    words = ["python -m cladec saliency", "--datasets", *args.datasets, "--digits", args.digits]
    words += ["--sanity-digits", args.sanity_digits, "--out", args.out]
    try:
        result = run_saliency_study(
            args.datasets,
            digits=args.digits,
            sanity_digits=args.sanity_digits,
            profile=args.profile,
            seed=args.seed,
            out=args.out,
            command=" ".join(map(str, words)),
        )
    except DataSourceError as exc:
        print(f"python -m cladec saliency: error: {exc}", file=sys.stderr)
        return 1
    except FileExistsError as exc:  # --out holds a file cladec did not write
        print(f"python -m cladec saliency: error: {exc}", file=sys.stderr)
        return 2
    for path in result["files"]:
        print(f"wrote {path}")
    return 0


def add_targets_parser(commands) -> None:
    """Add ``targets`` to the subcommands ``commands``."""
    parser = commands.add_parser(
        "targets",
        help="compare ClaDec's two classification targets (true labels, the classifier's "
        "predictions) on the misread test images",
        description=(
            "Trains (or loads) the my_dense decoders of both targets of eq. 1 at each alpha, "
            "and measures each, with RefAE as the baseline, on the test images the perfect "
            "classifier misreads: how often the reconstruction is read as the classifier's "
            "answer and how often as the true class; with the reconstruction loss, fidelity "
            "and the evaluation accuracy."
        ),
        epilog="Writes targets.csv into --out.",
    )
    _add_datasets_argument(parser)
    parser.add_argument(
        "--alphas",
        nargs="+",
        type=alpha,
        default=[0.5, 0.99, 0.999],
        metavar="ALPHA",
        help="alphas in (0, 1] of both targets; alpha 0 is added (default: 0.5 0.99 0.999)",
    )
    parser.add_argument("--profile", choices=config.PROFILE_NAMES, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/results/targets", metavar="DIR")
    parser.add_argument(
        "--quiet", action="store_true", help="print no per-epoch progress of the models it trains"
    )
    parser.set_defaults(func=_targets_command)


def _targets_command(args) -> int:
    from ..studies.target_study import run_target_study

    words = ["python -m cladec targets", "--datasets", *args.datasets]
    words += ["--alphas", *(format(a, "g") for a in args.alphas), "--out", args.out]
    try:
        result = run_target_study(
            args.datasets,
            alphas=args.alphas,
            profile=args.profile,
            seed=args.seed,
            out=args.out,
            command=" ".join(map(str, words)),
            verbose=0 if args.quiet else 1,
        )
    except (DataSourceError, ValueError) as exc:
        print(f"python -m cladec targets: error: {exc}", file=sys.stderr)
        return 1
    except FileExistsError as exc:  # --out holds a file cladec did not write
        print(f"python -m cladec targets: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {result['file']}")
    return 0

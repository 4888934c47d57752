"""``explain``: draw the reference grid and the difference maps of one layer into a PNG."""

from __future__ import annotations

import os
import sys

from .. import config
from ..datasets import DATASET_NAMES, DataSourceError
from ..profiles import get_profile
from ..studies._request import LAYERS, check_dataset, check_layer
from ._common import alpha, argparse_type, positive_int


def _is_png(path) -> bool:
    try:
        with open(path, "rb") as handle:
            return os.path.isfile(path) and handle.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def _explain_command(args) -> int:
    if os.path.splitext(args.out)[1].lower() != ".png":
        args.explain_parser.error(f"--out {args.out!r} must name a .png file")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        args.explain_parser.error(f"--out {args.out!r}: the folder {folder} does not exist")
    if os.path.lexists(args.out) and not _is_png(args.out):
        args.explain_parser.error(
            f"--out {args.out!r} exists and is not a PNG image: it is kept; choose another name"
        )
    try:
        get_profile(args.profile)
    except ValueError as exc:
        args.explain_parser.error(str(exc))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plotting
    from .._atomic import atomic_file
    from ..lesson import explain_layer

    try:
        run = explain_layer(
            args.dataset,
            args.layer,
            classifier=args.classifier,
            alphas=args.alpha,
            profile=args.profile,
            seed=args.seed,
            verbose=0 if args.quiet else 1,
        )
    except DataSourceError as exc:
        print(f"python -m cladec explain: error: {exc}", file=sys.stderr)
        return 1
    shown = run.pick(n_right=args.n_right, n_wrong=args.n_wrong, seed=args.seed)
    result = run.explain(shown.images)
    what = f"{args.dataset}, {args.classifier} classifier, layer {args.layer}"
    grid = plotting.reconstruction_grid(
        shown.images, result.rows(), **shown.titles, title=f"{what}: RefAE and ClaDec"
    )
    maps = plotting.difference_maps(
        result.differences, original=shown.images, **shown.titles, title=f"{what}: ClaDec - RefAE"
    )
    with atomic_file(args.out, "wb") as handle:
        plt.imsave(handle, plotting.stack_figures([grid, maps]), format="png")
    print(f"wrote {args.out}: {run.summary()}")
    print(run.sources())
    return 0


def add_explain_parser(commands) -> None:
    """Add ``explain`` to the subcommands ``commands``."""
    parser = commands.add_parser(
        "explain",
        help="draw the reference grid and the difference maps of one layer into a PNG",
        description=(
            "Obtains the classifier, RefAE and one ClaDec per alpha (from the cache or the "
            "shipped models when present, else by training) and draws eight test images "
            "(3 read right, 5 misread) with their reconstructions and ClaDec - RefAE."
        ),
    )
    parser.add_argument(
        "--dataset",
        required=True,
        type=argparse_type(check_dataset, "dataset"),
        help=f"one of {', '.join(DATASET_NAMES)}",
    )
    parser.add_argument(
        "--layer",
        required=True,
        type=argparse_type(check_layer, "layer"),
        help=f"one of {', '.join(LAYERS)}",
    )
    parser.add_argument(
        "--alpha",
        nargs="+",
        type=alpha,
        default=[0.0, 0.99],
        metavar="ALPHA",
        help="ClaDec alphas in [0, 1] (default: 0 0.99)",
    )
    parser.add_argument("--classifier", choices=config.CLASSIFIER_KINDS, default="perfect")
    parser.add_argument("--profile", choices=config.PROFILE_NAMES, default=None)
    parser.add_argument("--out", required=True, metavar="FILE.png", help="the figure to write")
    parser.add_argument("--n-right", type=argparse_type(positive_int, "count"), default=3)
    parser.add_argument("--n-wrong", type=argparse_type(positive_int, "count"), default=5)
    parser.add_argument("--seed", type=int, default=0, help="picks the images and seeds the models")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.set_defaults(func=_explain_command, explain_parser=parser)

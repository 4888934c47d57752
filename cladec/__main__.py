"""The command line: ``python -m cladec <command>`` (also installed as ``cladec``).

Commands
--------
``cache list``        the trained models in the cache, with what they are and how long they took
``cache clear``       remove every cached model (and nothing that is not one)
``cache export FILE`` write the cache into one hash-checked archive (for a lab of students)
``cache import FILE`` add the models of such an archive to the cache
``explain``           draw the reference grid and difference maps of one layer into a PNG
``pretrained build``  run the tutorials, train what is missing, rewrite the shipped models
``pretrained verify`` re-measure every shipped model on the real test set
``reproduce``         run the reference evaluation and compare with the reference table
``saliency``          compare ClaDec with four saliency methods (the results page's section)
``targets``           measure both targets of eq. 1 (the method page's table)
``info``              versions, settings and the offline data sources found

``--help``, ``--version`` and every usage error answer without importing Keras
or TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import config
from ._request import (
    COMPARISON_FILE,
    DEFAULT_OUT,
    LAYERS,
    REFERENCE_FILE,
    REFERENCE_PERCENTS,
    ROWS_FILE,
    ReproduceError,
    check_count,
    check_dataset,
    check_layer,
    check_percent,
    check_request,
)
from ._version import __version__
from .datasets import DATASET_NAMES, DataSourceError, find_sources
from .profiles import get_profile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The command functions import the modules that need Keras and TensorFlow
# (store, reproduce, keras itself) inside their bodies: importing them takes
# 3.7 s on two cores (measured with `python -X importtime -c "import keras"`),
# which --help, --version and a usage error (0.2 s without them) never pay.


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def _cache_list(args) -> int:
    from .store import ModelStore, training_time_text

    store = ModelStore(args.root) if args.root else ModelStore()
    entries = store.entries()
    print(f"{len(entries)} cached model(s) in {store.root}")
    for entry in entries:
        fields = entry.meta.get("fields", {})
        what = fields.get("kind", "?")
        detail = " ".join(
            f"{k}={fields[k]}"
            for k in ("architecture", "dataset", "layer", "alpha", "n_units", "epochs")
            if k in fields
        )
        size = sum(p.stat().st_size for p in entry.path.iterdir() if p.is_file())
        print(
            f"  {entry.path.name}  {what:<16} {detail}  "
            f"(trained in {training_time_text(entry.meta)}; {size / 1e6:.1f} MB; "
            f"{entry.meta.get('created', '')})"
        )
    return 0


def _cache_clear(args) -> int:
    from .store import FolderNotOwned, ModelStore

    store = ModelStore(args.root) if args.root else ModelStore()
    try:
        removed = store.clear(force=args.force)
    except FolderNotOwned as exc:
        print(f"python -m cladec cache clear: error: {exc}", file=sys.stderr)
        return 2
    print(f"removed {removed} cached model folder(s) from {store.root}")
    kept = store.foreign()
    if kept:
        names = ", ".join(p.name for p in kept[:10]) + (" ..." if len(kept) > 10 else "")
        print(f"kept {len(kept)} item(s) that are not cache entries: {names}")
    return 0


def _info(args) -> int:
    import platform

    import keras
    import numpy
    import tensorflow

    print(
        f"cladec {__version__}, keras {keras.__version__}, tensorflow {tensorflow.__version__}, "
        f"numpy {numpy.__version__}, python {platform.python_version()} on {platform.machine()}"
    )
    print(f"CLADEC_HOME    {config.cladec_home()}")
    print(f"CLADEC_PROFILE {get_profile().describe()}")
    print(f"CLADEC_DATA    {config.data_dir() or '(not set)'}")
    from .store import PretrainedBundle

    shipped = len(PretrainedBundle())
    state = "on" if config.use_pretrained() else "off (CLADEC_PRETRAINED=0)"
    print(f"CLADEC_PRETRAINED {state}: {shipped} shipped pretrained model(s)")
    print(f"CLADEC_TRAIN   {config.train_policy()}")
    print("data sources found offline, in the order load_dataset tries them (files not yet read):")
    for name in DATASET_NAMES:
        found = find_sources(name)
        print(f"  {name}:" + ("" if found else " none (the Keras download needs the internet)"))
        for source in found:
            print(f"    {source}")
    return 0


def _store(args):
    from .store import ModelStore

    return ModelStore(args.root) if args.root else ModelStore()


def _cache_export(args) -> int:
    from .archive import ArchiveError, export_cache

    store = _store(args)
    try:
        count = export_cache(store, args.file)
    except ArchiveError as exc:
        print(f"python -m cladec cache export: error: {exc}", file=sys.stderr)
        return 2
    size = os.path.getsize(args.file) / 1e6
    print(f"wrote {count} model(s) from {store.root} into {args.file} ({size:.1f} MB)")
    return 0


def _cache_import(args) -> int:
    from .archive import ArchiveError, import_cache

    store = _store(args)
    try:
        count = import_cache(store, args.file)
    except ArchiveError as exc:
        print(f"python -m cladec cache import: error: {exc}", file=sys.stderr)
        return 2
    print(f"added {count} model(s) from {args.file} to {store.root}")
    return 0


def _default_gallery() -> str:
    # A clone's gallery/ sits beside the package; an installed package has none.
    beside = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gallery")
    return beside if os.path.isdir(beside) else "gallery"


def _pretrained_build(args) -> int:
    if not os.path.isdir(args.gallery):
        args.pretrained_parser.error(
            f"--gallery {args.gallery!r} is not a folder; give the gallery/ of a clone of cladec"
        )
    from .bundle import build_bundle

    target = build_bundle(args.gallery)
    print(f"shipped models rewritten in {target}")
    return 0


def _pretrained_verify(args) -> int:
    from .bundle import verify_bundle
    from .store import PretrainedBundle

    bundle = PretrainedBundle(args.bundle) if args.bundle else PretrainedBundle()
    print(f"{len(bundle)} shipped model(s) in {bundle.root}")
    problems = verify_bundle(bundle)
    for problem in problems:
        print(f"MISMATCH {problem.key[:12]}: {problem.message}", file=sys.stderr)
    print(
        "all shipped models match their manifest"
        if not problems
        else f"{len(problems)} mismatch(es)"
    )
    return 1 if problems else 0


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

    from . import plotting
    from ._atomic import atomic_file
    from .experiment import explain_layer

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
    from .reproduce import run_reproduce

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


# ---------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------


def _argparse_type(check, label: str):
    """Wrap a ``check_*`` function of a reproduce request as an argparse type."""

    def convert(text):
        try:
            return check(text)
        except ReproduceError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = label  # argparse names the type in some messages
    return convert


def _positive_int(text):
    return check_count(text, "the count")


def _add_cache_parser(commands) -> None:
    cache = commands.add_parser(
        "cache", help="list, clear, export or import the cache of trained models"
    )
    cache_commands = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, text, takes_file in (
        ("list", _cache_list, "list the cached models", False),
        ("clear", _cache_clear, "remove every cached model (only cache entries ever go)", False),
        ("export", _cache_export, "write every cached model into one archive FILE", True),
        ("import", _cache_import, "add the models of an archive FILE to the cache", True),
    ):
        sub = cache_commands.add_parser(name, help=text, description=text)
        if takes_file:
            sub.add_argument("file", metavar="FILE", help="the archive (.tar.gz)")
        sub.add_argument("--root", help="the model store folder (default: $CLADEC_HOME/models)")
        if name == "clear":
            sub.add_argument(
                "--force",
                action="store_true",
                help="remove the cache entries even when the folder holds other things "
                "(those are kept either way)",
            )
        sub.set_defaults(func=func)


def _add_pretrained_parser(commands) -> None:
    parser = commands.add_parser("pretrained", help="build or verify the shipped pretrained models")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="run the tutorials under the full profile, train what is missing, rewrite the bundle",
        description=(
            "Runs every gallery/plot_*.py under the full profile with the models it uses "
            "recorded, trains what neither the cache nor the bundle holds (resumable through "
            "the cache), and writes exactly those models into the package's pretrained/ folder."
        ),
    )
    build.add_argument(
        "--gallery",
        default=_default_gallery(),
        help="the tutorials (default: the clone's gallery/)",
    )
    build.set_defaults(func=_pretrained_build, pretrained_parser=build)
    verify = actions.add_parser(
        "verify", help="re-measure every shipped model on the real test set against its manifest"
    )
    verify.add_argument("--bundle", help="a bundle folder (default: the package's own)")
    verify.set_defaults(func=_pretrained_verify)


def _alpha(text):
    from ._inputs import check_alpha

    try:
        return check_alpha(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"alpha {text!r}: {exc}") from None


def _add_explain_parser(commands) -> None:
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
        type=_argparse_type(check_dataset, "dataset"),
        help=f"one of {', '.join(DATASET_NAMES)}",
    )
    parser.add_argument(
        "--layer",
        required=True,
        type=_argparse_type(check_layer, "layer"),
        help=f"one of {', '.join(LAYERS)}",
    )
    parser.add_argument(
        "--alpha",
        nargs="+",
        type=_alpha,
        default=[0.0, 0.99],
        metavar="ALPHA",
        help="ClaDec alphas in [0, 1] (default: 0 0.99)",
    )
    parser.add_argument("--classifier", choices=config.CLASSIFIER_KINDS, default="perfect")
    parser.add_argument("--profile", choices=config.PROFILE_NAMES, default=None)
    parser.add_argument("--out", required=True, metavar="FILE.png", help="the figure to write")
    parser.add_argument("--n-right", type=_argparse_type(_positive_int, "count"), default=3)
    parser.add_argument("--n-wrong", type=_argparse_type(_positive_int, "count"), default=5)
    parser.add_argument("--seed", type=int, default=0, help="picks the images and seeds the models")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.set_defaults(func=_explain_command, explain_parser=parser)


def _add_reproduce_parser(commands) -> None:
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
        type=_argparse_type(check_dataset, "dataset"),
        default=None,
        help=f"datasets to run (default: {' '.join(DATASET_NAMES)})",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        metavar="LAYER",
        type=_argparse_type(check_layer, "layer"),
        default=None,
        help=f"layers to explain (default: {' '.join(LAYERS)})",
    )
    parser.add_argument(
        "--alphas",
        nargs="+",
        metavar="PERCENT",
        type=_argparse_type(check_percent, "alpha"),
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
    count = _argparse_type(_positive_int, "count")
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
        type=_argparse_type(check_dataset, "dataset"),
        default=list(DATASET_NAMES),
        help=f"datasets (default: {' '.join(DATASET_NAMES)})",
    )


def _add_saliency_parser(commands) -> None:
    count = _argparse_type(_positive_int, "count")
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
    from .saliency_study import run_saliency_study

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


def _add_targets_parser(commands) -> None:
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
        type=_alpha,
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
    from .target_study import run_target_study

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


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m cladec`` and its subcommands (builds without TensorFlow).

    Returns
    -------
    argparse.ArgumentParser
        Parsed arguments carry the command to run as ``func``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m cladec",
        description="ClaDec: explain layers of Keras classifiers by decoding their activations.",
    )
    parser.add_argument("--version", action="version", version=f"cladec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_cache_parser(commands)
    _add_explain_parser(commands)
    _add_pretrained_parser(commands)
    info = commands.add_parser("info", help="versions, settings and the data sources found")
    info.set_defaults(func=_info)
    _add_reproduce_parser(commands)
    _add_saliency_parser(commands)
    _add_targets_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m cladec`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``python -m cladec``.

    Returns
    -------
    int
        0 on success, 1 on a failure such as missing data, 130 when interrupted;
        a usage error exits with status 2 (``SystemExit``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

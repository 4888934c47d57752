"""``pretrained build|verify``: the models shipped inside the package."""

from __future__ import annotations

import os
import sys


def _default_gallery() -> str:
    # A clone's gallery/ sits beside the package; an installed package has none.
    beside = os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "gallery"
    )
    return beside if os.path.isdir(beside) else "gallery"


def _pretrained_build(args) -> int:
    if not os.path.isdir(args.gallery):
        args.pretrained_parser.error(
            f"--gallery {args.gallery!r} is not a folder; give the gallery/ of a clone of cladec"
        )
    from ..studies.shipped import build_bundle

    target = build_bundle(args.gallery)
    print(f"shipped models rewritten in {target}")
    return 0


def _pretrained_verify(args) -> int:
    from ..store.pretrained import PretrainedBundle
    from ..studies.shipped import verify_bundle

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


def add_pretrained_parser(commands) -> None:
    """Add ``pretrained`` and its actions to the subcommands ``commands``."""
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

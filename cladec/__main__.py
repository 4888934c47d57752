"""The command line: ``python -m cladec <command>`` (also installed as ``cladec``).

Commands
--------
``cache list``      the trained models in the cache, with what they are and how long they took
``cache clear``     remove every cached model
``reproduce``       run the reference evaluation and compare with the reference table
``info``            versions, settings and where the data come from
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
    from .store import ModelStore

    store = ModelStore(args.root) if args.root else ModelStore()
    removed = store.clear()
    print(f"removed {removed} cached model folder(s) from {store.root}")
    return 0


def _info(args) -> int:
    import platform

    import keras
    import numpy
    import tensorflow

    from . import __version__, config
    from .profiles import get_profile

    print(
        f"cladec {__version__}, keras {keras.__version__}, tensorflow {tensorflow.__version__}, "
        f"numpy {numpy.__version__}, python {platform.python_version()} on {platform.machine()}"
    )
    print(f"CLADEC_HOME    {config.cladec_home()}")
    print(f"CLADEC_PROFILE {get_profile().describe()}")
    print(f"CLADEC_DATA    {config.data_dir() or '(not set)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cladec",
        description="ClaDec: explain layers of Keras classifiers by decoding their activations.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cache = commands.add_parser("cache", help="list or clear the cache of trained models")
    cache_commands = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, text in (
        ("list", _cache_list, "list the cached models"),
        ("clear", _cache_clear, "remove every cached model"),
    ):
        sub = cache_commands.add_parser(name, help=text)
        sub.add_argument("--root", help="the model store folder (default: $CLADEC_HOME/models)")
        sub.set_defaults(func=func)

    info = commands.add_parser("info", help="versions, settings and data sources")
    info.set_defaults(func=_info)

    try:
        from .reproduce import add_reproduce_parser
    except ImportError:  # pragma: no cover - until the evaluation lands
        pass
    else:
        add_reproduce_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

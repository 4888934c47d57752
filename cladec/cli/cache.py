"""``cache list|clear|export|import`` and ``info``: the model cache and the settings."""

from __future__ import annotations

import os
import sys

from .. import config
from .._version import __version__
from ..datasets import DATASET_NAMES, find_sources
from ..profiles import get_profile


def _cache_list(args) -> int:
    from ..store import ModelStore, training_time_text

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
    from ..exceptions import FolderNotOwned
    from ..store import ModelStore

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


def _store(args):
    from ..store import ModelStore

    return ModelStore(args.root) if args.root else ModelStore()


def _cache_export(args) -> int:
    from ..store.archive import ArchiveError, export_cache

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
    from ..store.archive import ArchiveError, import_cache

    store = _store(args)
    try:
        count = import_cache(store, args.file)
    except ArchiveError as exc:
        print(f"python -m cladec cache import: error: {exc}", file=sys.stderr)
        return 2
    print(f"added {count} model(s) from {args.file} to {store.root}")
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
    from ..store.pretrained import PretrainedBundle

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


def add_cache_parser(commands) -> None:
    """Add ``cache`` and its actions to the subcommands ``commands``."""
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
        sub.add_argument(
            "--root", help=f"the model store folder (default: $CLADEC_HOME/{config.MODELS_FOLDER})"
        )
        if name == "clear":
            sub.add_argument(
                "--force",
                action="store_true",
                help="remove the cache entries even when the folder holds other things "
                "(those are kept either way)",
            )
        sub.set_defaults(func=func)


def add_info_parser(commands) -> None:
    """Add ``info`` to the subcommands ``commands``."""
    info = commands.add_parser("info", help="versions, settings and the data sources found")
    info.set_defaults(func=_info)

"""What this library may delete or replace: only folders and files it recognises as its own.

Every path that removes or replaces a folder (``cache clear``, a corrupted
entry's removal, ``cache import``, ``pretrained build``, ``ClaDec.save``) asks
one of the recognisers below first. A recogniser never follows a symbolic
link and accepts a folder only when every name in it is one this library
writes there, so a user's folder that happens to sit where a model would go
is kept, and the error names it.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .exceptions import FileNotOwned, FolderNotOwned

__all__ = [
    "ENTRY_FILES",
    "ENTRY_NAME",
    "META",
    "WEIGHTS",
    "FolderKind",
    "FolderNotOwned",
    "FileNotOwned",
    "check_output_file",
    "is_result_csv",
    "STORE_ENTRY",
    "STORE_LEFTOVER",
    "ENTRY_FOLDER",
    "check_replaceable",
    "is_store_entry",
    "is_store_leftover",
    "foreign_message",
    "remove_owned",
    "saved_folder",
    "survey",
]

WEIGHTS = "model.weights.h5"
META = "meta.json"
ENTRY_FILES = frozenset({META, WEIGHTS})
# The store names an entry by the first 24 hex digits of its key's SHA-256.
ENTRY_NAME = re.compile(r"[0-9a-f]{24}\Z")
# What an interrupted write leaves beside an entry: atomic_dir's ``.<name>.<random>.tmp``
# / ``.old`` folders, and cache import's staging folder.
_LEFTOVER_NAME = re.compile(
    r"(\.[0-9a-f]{24}\.[A-Za-z0-9_]{1,16}\.(tmp|old)|\.cladec-import-[A-Za-z0-9_]{1,16}\.tmp)\Z"
)
# Files a store write can leave inside such a folder (``full-``: the weights
# before the optimizer's state is dropped).
_LEFTOVER_FILES = frozenset(ENTRY_FILES | {"full-" + WEIGHTS})
_MAX_META_BYTES = 4 << 20


@dataclass(frozen=True)
class FolderKind:
    """A kind of folder this library writes: a name for messages and a recogniser."""

    description: str
    recognise: Callable[[Path], bool]

    def __call__(self, path: Path) -> bool:
        return self.recognise(Path(path))


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _real_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _children(path: Path) -> list[Path] | None:
    try:
        return list(path.iterdir())
    except OSError:
        return None


def files_only(path: Path, allowed: Iterable[str]) -> bool:
    """True when ``path`` is a real folder holding only regular files named in ``allowed``."""
    allowed = set(allowed)
    children = _children(path) if _real_dir(path) else None
    return children is not None and all(c.name in allowed and _real_file(c) for c in children)


def _read_entry_meta(path: Path) -> dict | None:
    meta = path / META
    try:
        if meta.lstat().st_size > _MAX_META_BYTES:
            return None
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def is_store_entry(path: Path) -> bool:
    """A model-cache entry: a key-named folder with the store's ``meta.json`` (and weights) only."""
    path = Path(path)
    if not ENTRY_NAME.match(path.name) or not files_only(path, ENTRY_FILES):
        return False
    meta = _read_entry_meta(path)
    key = meta.get("key") if meta else None
    return (
        isinstance(key, str)
        and re.fullmatch(r"[0-9a-f]{64}", key) is not None
        and key.startswith(path.name)
        and "weights_sha256" in meta
    )


def _is_entry_folder(path: Path) -> bool:
    # A key-named folder holding nothing but the files a store write makes:
    # its meta.json may be unreadable, that is why it is being removed.
    return ENTRY_NAME.match(path.name) is not None and files_only(path, _LEFTOVER_FILES)


def _holds_only_store_files(path: Path, depth: int = 0) -> bool:
    children = _children(path) if _real_dir(path) else None
    if children is None or depth > 2:
        return False
    for child in children:
        if _real_file(child) and child.name in _LEFTOVER_FILES:
            continue
        folder_name = child.name == "old" or ENTRY_NAME.match(child.name)
        if folder_name and _holds_only_store_files(child, depth + 1):
            continue
        return False
    return True


def is_store_leftover(path: Path) -> bool:
    """What an interrupted store write or import leaves: a hidden temporary folder of store files."""
    path = Path(path)
    return _LEFTOVER_NAME.match(path.name) is not None and _holds_only_store_files(path)


STORE_ENTRY = FolderKind("a cladec model-cache entry", is_store_entry)
STORE_LEFTOVER = FolderKind("a leftover of an interrupted cladec write", is_store_leftover)
ENTRY_FOLDER = FolderKind(
    "a cladec model-cache entry (a key-named folder of meta.json and weights only)",
    _is_entry_folder,
)


def saved_folder(description: str, files: Iterable[str], required: str) -> FolderKind:
    """The kind of folder a ``save(folder)`` writes: exactly ``files``, ``required`` among them."""
    files = frozenset(files)

    def recognise(path: Path) -> bool:
        return files_only(path, files) and _real_file(path / required)

    return FolderKind(description, recognise)


def check_replaceable(path: Path, kind: FolderKind) -> None:
    """Raise :class:`FolderNotOwned` unless ``path`` is absent, an empty folder, or of ``kind``."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if _real_dir(path) and _children(path) == []:
        return
    if not kind(path):
        raise FolderNotOwned(
            f"{path} already exists and is not {kind.description}: cladec replaces only a "
            "folder it wrote itself, so nothing was written; choose another folder, or move "
            "this one away first"
        )


def survey(root: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """Sort what ``root`` holds into (cache entries, leftovers of interrupted writes, anything else)."""
    entries, leftovers, foreign = [], [], []
    for child in sorted(Path(root).iterdir()):
        if is_store_entry(child):
            entries.append(child)
        elif is_store_leftover(child):
            leftovers.append(child)
        else:
            foreign.append(child)
    return entries, leftovers, foreign


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CSV_MARK = b"# cladec:"


def _starts_with(path: Path, prefix: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(prefix)) == prefix
    except OSError:
        return False


def is_result_csv(path: Path) -> bool:
    """A CSV this library wrote: a regular file whose first line is its provenance mark."""
    return _real_file(path) and _starts_with(path, _CSV_MARK)


def check_output_file(path: Path) -> None:
    """Raise :class:`FileNotOwned` unless ``path`` is absent or a result file cladec wrote.

    A CSV is ours when it starts with ``# cladec:``; a PNG when it is one and
    a CSV of ours lies beside it (a figure of an earlier run of the same
    command). Anything else is someone's file, which a rerun must not replace.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if path.suffix == ".csv":
        ours = is_result_csv(path)
    elif path.suffix == ".png":
        ours = (
            _real_file(path)
            and _starts_with(path, _PNG_SIGNATURE)
            and any(is_result_csv(p) for p in path.parent.glob("*.csv"))
        )
    else:
        ours = False
    if not ours:
        raise FileNotOwned(
            f"{path} already exists and is not a result file cladec wrote: it is kept and "
            "nothing was written there; choose another output folder, or move the file away"
        )


def foreign_message(root: Path, foreign: list[Path]) -> str:
    """Say that ``root`` holds things that are not cache entries, naming the first few."""
    names = ", ".join(repr(p.name) for p in foreign[:5])
    more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
    return (
        f"{root} holds {len(foreign)} item(s) that are not cladec model-cache entries "
        f"({names}{more}); nothing was removed. Check that this is the model cache; "
        "pass --force (ModelStore.clear(force=True)) to remove only its cache entries "
        "and keep everything else"
    )


def remove_owned(path: Path, *kinds: FolderKind) -> bool:
    """Remove ``path`` if it is of one of ``kinds``; return whether it was removed."""
    path = Path(path)
    if not any(kind(path) for kind in kinds):
        return False
    shutil.rmtree(path)
    return True

"""Move a model cache between machines: one hash-checked archive file.

A lab of students can share one teacher's cache: ``python -m cladec cache
export FILE`` on the teacher's machine, ``python -m cladec cache import FILE``
on each student's. The archive is a gzipped tar of cache entries plus an
index naming each entry and the SHA-256 of its weights. Import checks the
whole archive first (its index, every member's path, every checksum) and
only then moves the entries in, so a damaged or foreign archive is refused
with the cache left as it was.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

from ._atomic import atomic_dir, atomic_file, sha256_file
from .store import META, WEIGHTS, ModelStore

__all__ = ["ArchiveError", "export_cache", "import_cache"]

INDEX = "cladec-cache-index.json"
FORMAT = "cladec-cache-archive/1"


class ArchiveError(ValueError):
    """An archive that is not a cladec cache archive, or is damaged."""


def export_cache(store: ModelStore, path: str | os.PathLike) -> int:
    """Write every readable entry of ``store`` into the archive ``path``; return how many.

    Parameters
    ----------
    store : ModelStore
        The cache to export; entries without a weights file are left out.
    path : str or os.PathLike
        The archive to write (a gzipped tar), written atomically.

    Returns
    -------
    int
        The number of entries written.

    Raises
    ------
    ArchiveError
        If the cache holds no entry (an empty archive helps no one).
    """
    entries = [e for e in store.entries() if (e.path / WEIGHTS).is_file()]
    if not entries:
        raise ArchiveError(f"the model cache {store.root} holds no models to export")
    index = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "entries": {e.path.name: sha256_file(e.path / WEIGHTS) for e in entries},
    }
    with atomic_file(path, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
        blob = json.dumps(index, indent=2).encode()
        info = tarfile.TarInfo(INDEX)
        info.size, info.mtime = len(blob), int(time.time())
        tar.addfile(info, io.BytesIO(blob))
        for entry in entries:
            for name in (META, WEIGHTS):
                tar.add(entry.path / name, arcname=f"{entry.path.name}/{name}", recursive=False)
    return len(entries)


def _read_index(tar: tarfile.TarFile, path) -> dict:
    try:
        member = tar.getmember(INDEX)
        index = json.loads(tar.extractfile(member).read())
    except (KeyError, AttributeError, ValueError) as exc:
        raise ArchiveError(
            f"{path} is not a cladec cache archive (no readable {INDEX}); "
            "make one with `python -m cladec cache export FILE`"
        ) from exc
    if index.get("format") != FORMAT:
        raise ArchiveError(
            f"{path} has archive format {index.get('format')!r}; this cladec reads {FORMAT!r}"
        )
    return index


def _check_members(tar: tarfile.TarFile, index: dict, path) -> None:
    allowed = {INDEX} | {
        f"{folder}/{name}" for folder in index["entries"] for name in (META, WEIGHTS)
    }
    for member in tar.getmembers():
        parts = PurePosixPath(member.name).parts
        if member.name not in allowed or ".." in parts or not (member.isfile()):
            raise ArchiveError(f"{path} holds an unexpected member {member.name!r}: refused")
    missing = allowed - set(tar.getnames())
    if missing:
        raise ArchiveError(f"{path} lacks {sorted(missing)[:3]}: the archive is incomplete")


def import_cache(store: ModelStore, path: str | os.PathLike) -> int:
    """Add the entries of the archive ``path`` to ``store``; return how many were added.

    Entries the cache already holds are replaced by the archive's (their keys
    are equal, so are the settings that trained them).

    Parameters
    ----------
    store : ModelStore
        The cache to add the entries to (its ``root`` folder).
    path : str or os.PathLike
        An archive written by :func:`export_cache`.

    Returns
    -------
    int
        The number of entries in the archive, all added.

    Raises
    ------
    ArchiveError
        If the file is not a cladec cache archive, is damaged, or a checksum
        does not match; the cache is then unchanged.
    """
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"{path} does not exist or is not a file")
    with tempfile.TemporaryDirectory(prefix="cladec-import-") as staging:
        staging = Path(staging)
        try:
            with tarfile.open(path, mode="r:gz") as tar:
                index = _read_index(tar, path)
                _check_members(tar, index, path)
                for member in tar.getmembers():  # checked above: regular files with known names
                    target = staging / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(member).read())
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{path} is damaged or not a gzipped tar archive ({exc})") from exc
        for folder, expected in index["entries"].items():
            actual = sha256_file(staging / folder / WEIGHTS)
            meta = json.loads((staging / folder / META).read_text())
            if actual != expected or actual != meta.get("weights_sha256"):
                raise ArchiveError(
                    f"{path}: the weights of entry {folder} do not match their checksum "
                    f"({actual[:12]}... against {expected[:12]}...): the archive is damaged; "
                    "nothing was imported"
                )
        for folder in index["entries"]:
            with atomic_dir(store.root / folder) as tmp:
                for name in (META, WEIGHTS):
                    shutil.copy2(staging / folder / name, tmp / name)
    return len(index["entries"])

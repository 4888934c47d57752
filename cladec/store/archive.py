"""Move a model cache between machines: one hash-checked archive file.

A lab of students can share one teacher's cache: ``python -m cladec cache
export FILE`` on the teacher's machine, ``python -m cladec cache import FILE``
on each student's. The archive is a gzipped tar of cache entries plus an
index naming each entry and the SHA-256 of its weights.

Import accepts exactly what export writes and nothing else. It reads the
archive twice. The first pass reads only the headers and the index: every
member must be a regular file named ``<key>/meta.json`` or
``<key>/model.weights.h5`` for a key of the store's own format listed in the
index, each name once, each size and the total under the limits below; a
link, a device, a folder, an absolute or ``..`` name, a duplicate or a
header that claims more than the limits is refused there, before a byte is
written. The second pass extracts through :mod:`tarfile`'s ``data`` filter
(PEP 706) into a hidden folder inside the cache's own root, checks every
checksum, and only then moves the entries in; a folder in the way that is
not a cache entry is never replaced. Every refusal names the member and the
reason and leaves the cache, and every other folder, as it was.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

from .._atomic import _give_default_mode, atomic_file, sha256_file
from .._ownership import ENTRY_FOLDER, ENTRY_NAME, META, WEIGHTS, check_replaceable, is_store_entry
from ..exceptions import ArchiveError
from .cache import ModelStore

if hasattr(tarfile, "data_filter"):  # Python 3.12, and 3.11.4 onwards
    _tarfile = tarfile
else:  # the same module, backported (Debian 12's Python is 3.11.2)
    import backports.tarfile as _tarfile

# What a damaged stream raises from gzip, zlib or either tarfile module.
_READ_ERRORS = (tarfile.TarError, _tarfile.TarError, OSError, EOFError, zlib.error, UnicodeError)

__all__ = ["export_cache", "import_cache", "LIMITS"]  # ArchiveError: cladec.exceptions

INDEX = "cladec-cache-index.json"
FORMAT = "cladec-cache-archive/1"

# Far above a real cache (the largest shipped weights file is 2.3 MB, the
# largest meta.json 39 KB, the whole reference protocol about 90 models) and
# far below what would hurt a laptop's disk or memory.
LIMITS = {
    "entries": 10_000,
    "weights_bytes": 64 << 20,
    "meta_bytes": 1 << 20,
    "index_bytes": 4 << 20,
    "unpacked_bytes": 4 << 30,
}
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_BLOCK = 512


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def export_cache(store: ModelStore, path: str | os.PathLike) -> int:
    """Write every readable entry of ``store`` into the archive ``path``; return how many.

    Parameters
    ----------
    store : ModelStore
        The cache to export; entries without a weights file are left out.
    path : str or os.PathLike
        The archive to write (a gzipped tar), written atomically. An existing
        file there is replaced only when it is itself a cladec cache archive.

    Returns
    -------
    int
        The number of entries written.

    Raises
    ------
    ArchiveError
        If the cache holds no entry (an empty archive helps no one), or
        ``path`` is a folder or a file that is not a cladec cache archive.
    """
    path = Path(path)
    _check_export_target(path)
    entries = [
        e for e in store.entries() if is_store_entry(e.path) and (e.path / WEIGHTS).is_file()
    ]
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


def _check_export_target(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISREG(path.lstat().st_mode):
        raise ArchiveError(f"{path} exists and is not a file; choose a file name for the archive")
    try:
        _scan(path)
    except ArchiveError:
        raise ArchiveError(
            f"{path} exists and is not a cladec cache archive: it is kept, nothing was written; "
            "choose another file name"
        ) from None


# ---------------------------------------------------------------------------
# Import, pass 1: headers and index only
# ---------------------------------------------------------------------------


class _Bounded(io.RawIOBase):
    """A read-only view of the unpacked stream that refuses to go past ``limit`` bytes.

    Bounds both what a gzip bomb can make us unpack and what one tar header
    (a pax or GNU long-name header claiming gigabytes) can make us hold.
    """

    def __init__(self, raw, limit: int, largest_read: int):
        self._raw, self._limit, self._largest = raw, limit, largest_read
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _check(self, end: int) -> None:
        if end > self._limit:
            raise ArchiveError(
                f"unpacks to more than {self._limit:,} bytes, the limit for a cache archive"
            )

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self._largest:
            raise ArchiveError(
                f"holds a header or member of more than {self._largest:,} bytes "
                "(a cache archive's members are far smaller)"
            )
        self._check(self._pos + size)
        data = self._raw.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._pos + offset}.get(whence)
        if target is None:
            raise io.UnsupportedOperation("a cache archive is read forwards only")
        self._check(target)
        self._pos = self._raw.seek(target)
        return self._pos


@contextmanager
def _open(path: Path):
    largest = max(LIMITS["weights_bytes"], LIMITS["index_bytes"]) + _BLOCK
    # the members, plus a header and padding for each, plus the end-of-archive blocks
    limit = LIMITS["unpacked_bytes"] + (2 * LIMITS["entries"] + 1) * 4 * _BLOCK + 20 * _BLOCK
    with (
        gzip.open(path, "rb") as raw,
        _tarfile.open(fileobj=_Bounded(raw, limit, largest), mode="r:") as tar,
    ):
        yield tar


def _refuse(path, member: str, reason: str) -> ArchiveError:
    return ArchiveError(f"{path}: member {member!r} is refused: {reason}; nothing was imported")


def _read_index(tar, member, path) -> dict:
    name = member.name
    if name != INDEX:
        raise ArchiveError(
            f"{path} is not a cladec cache archive: its first member is {name!r}, not {INDEX} "
            "(make one with `python -m cladec cache export FILE`)"
        )
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        raise _refuse(path, name, "it is not a regular file")
    if member.size > LIMITS["index_bytes"]:
        raise _refuse(
            path, name, f"{member.size:,} bytes, over the {LIMITS['index_bytes']:,} limit"
        )
    try:
        index = json.loads(tar.extractfile(member).read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(path, name, f"it is not readable JSON ({exc})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        found = index.get("format") if isinstance(index, dict) else None
        raise ArchiveError(f"{path} has archive format {found!r}; this cladec reads {FORMAT!r}")
    entries = index.get("entries")
    if not isinstance(entries, dict) or not entries:
        raise _refuse(path, name, "it lists no entries")
    if len(entries) > LIMITS["entries"]:
        raise _refuse(path, name, f"{len(entries):,} entries, over the {LIMITS['entries']:,} limit")
    for folder, digest in entries.items():
        if not ENTRY_NAME.match(folder):
            raise _refuse(
                path, name, f"it names the entry {folder!r}; an entry is 24 lowercase hex digits"
            )
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise _refuse(path, name, f"the checksum of {folder} is not 64 lowercase hex digits")
    return index


def _check_member(member, allowed: dict, seen: set, total: int, path) -> int:
    name = member.name
    if name in seen:
        raise _refuse(path, name, "it appears twice")
    limit = allowed.get(name)
    if limit is None:
        raise _refuse(
            path,
            name,
            "a cache archive holds only <entry>/meta.json and "
            "<entry>/model.weights.h5 for the entries its index lists",
        )
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        raise _refuse(path, name, "it is not a regular file (a link, folder or device)")
    if member.size > limit:
        raise _refuse(path, name, f"{member.size:,} bytes, over the {limit:,} limit")
    total += member.size
    if total > LIMITS["unpacked_bytes"]:
        raise _refuse(path, name, f"the archive unpacks to over {LIMITS['unpacked_bytes']:,} bytes")
    seen.add(name)
    return total


def _allowed(index: dict) -> dict:
    """``{member name: size limit}``: the members an archive with this index may hold."""
    allowed = {}
    for folder in index["entries"]:
        allowed[f"{folder}/{META}"] = LIMITS["meta_bytes"]
        allowed[f"{folder}/{WEIGHTS}"] = LIMITS["weights_bytes"]
    return allowed


@contextmanager
def _refusing(path: Path, damaged: str):
    """Turn what reading ``path`` raises into one ArchiveError that names the file."""
    try:
        yield
    except ArchiveError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ArchiveError(f"{path} {exc}; nothing was imported") from None
    except _READ_ERRORS as exc:
        raise ArchiveError(f"{path} {damaged} ({exc}); nothing was imported") from None


def _scan(path: Path) -> dict:
    """Pass 1: check every header and the index without writing anything; return the index."""
    with _refusing(path, "is damaged or not a gzipped tar archive"), _open(path) as tar:
        first = tar.next()
        if first is None:
            raise ArchiveError(f"{path} is an empty archive, not a cladec cache archive")
        index = _read_index(tar, first, path)
        allowed, seen, total = _allowed(index), set(), 0
        for member in tar:  # iteration starts again at the index
            if member is not first:
                total = _check_member(member, allowed, seen, total, path)
        # tar stops at its end marker; reading on to gzip's trailer checks its CRC
        while tar.fileobj.read(_BLOCK * 16):
            pass
    missing = sorted(set(allowed) - seen)
    if missing:
        raise ArchiveError(f"{path} lacks {missing[:3]}: the archive is incomplete")
    return index


# ---------------------------------------------------------------------------
# Import, pass 2: extract into the cache's own root, check, move in
# ---------------------------------------------------------------------------


def _extract(path: Path, staging: Path, index: dict) -> None:
    allowed, seen, total = _allowed(index), set(), 0
    with _refusing(path, "is damaged or could not be unpacked"), _open(path) as tar:
        members = [m for m in tar if m.name != INDEX]
        for member in members:  # again: the file may have changed since pass 1
            total = _check_member(member, allowed, seen, total, path)
        # the data filter is the second wall (PEP 706)
        tar.extractall(staging, members=members, filter="data")


def _verify(staging: Path, index: dict, path) -> None:
    for folder, expected in index["entries"].items():
        weights, meta_file = staging / folder / WEIGHTS, staging / folder / META
        actual = sha256_file(weights)
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _refuse(path, f"{folder}/{META}", "it is not readable JSON") from None
        if not isinstance(meta, dict) or not str(meta.get("key", "")).startswith(folder):
            raise _refuse(path, f"{folder}/{META}", "it belongs to another entry")
        if not is_store_entry(staging / folder):
            raise _refuse(path, f"{folder}/{META}", "it is not the meta.json of a cache entry")
        if actual != expected or actual != meta.get("weights_sha256"):
            raise ArchiveError(
                f"{path}: the weights of entry {folder} do not match their checksum "
                f"({actual[:12]}... against {expected[:12]}...): the archive is damaged; "
                "nothing was imported"
            )


def _move_in(staged: Path, target: Path, staging: Path) -> None:
    """Put one checked entry in place; an entry already there is swapped out, then removed."""
    _give_default_mode(staged, folder=True)
    for child in staged.iterdir():
        _give_default_mode(child, folder=False)
    if target.exists() or target.is_symlink():
        aside = staging / f"old-{target.name}"
        os.replace(target, aside)
        os.replace(staged, target)
        shutil.rmtree(aside)
    else:
        os.replace(staged, target)


def _make_root(root: Path) -> list[Path]:
    """Create ``root`` and its missing parents; return the folders created, deepest first."""
    created = []
    for folder in [root, *root.parents]:
        if folder.exists():
            break
        created.append(folder)
    root.mkdir(parents=True, exist_ok=True)
    return created


def import_cache(store: ModelStore, path: str | os.PathLike) -> int:
    """Add the entries of the archive ``path`` to ``store``; return how many were added.

    Entries the cache already holds are replaced by the archive's (their keys
    are equal, so are the settings that trained them). See the module's
    description for every check an archive passes first.

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
        If the file is missing, is not a cladec cache archive, is damaged, a
        checksum does not match, a member is refused, or a folder in the
        cache's place is not a cache entry; the cache and every other folder
        are then unchanged.
    """
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"{path} does not exist or is not a file")
    index = _scan(path)
    root = store.root
    for folder in index["entries"]:
        try:
            check_replaceable(root / folder, ENTRY_FOLDER)
        except FileExistsError as exc:
            raise ArchiveError(f"{exc}; nothing was imported") from None
    try:
        created = _make_root(root)
    except OSError as exc:
        raise ArchiveError(
            f"cannot create the model cache {root} ({exc}); nothing was imported"
        ) from None
    staging = Path(tempfile.mkdtemp(prefix=".cladec-import-", suffix=".tmp", dir=root))
    try:
        _extract(path, staging, index)
        _verify(staging, index, path)
        for folder in index["entries"]:
            _move_in(staging / folder, root / folder, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # a cache that did not exist before does not exist after
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return len(index["entries"])

"""Write files and folders so that a reader never sees a half-written one."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ._frozen import FrozenMemo
from ._ownership import FolderKind, check_replaceable

__all__ = ["atomic_file", "atomic_dir", "sha256_file", "sha256_bytes", "array_digest"]


def _umask() -> int:
    # Reading the umask means setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _give_default_mode(path: str | os.PathLike, *, folder: bool) -> None:
    """Give a temporary (0600 / 0700) file or folder the mode a plain open() or mkdir() would.

    Without this, results and cache entries would be readable by their owner
    only, unlike every other file the user creates.
    """
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _give_default_mode(tmp, folder=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | os.PathLike, *, replaces: FolderKind) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` only on success.

    An existing ``path`` is replaced (moved aside, then removed) only when it
    is empty or of the kind ``replaces`` recognises, so a rebuilt cache entry
    never mixes old and new files and a folder of someone else's files is
    never lost: :class:`FolderNotOwned` is raised before anything is written.
    """
    path = Path(path)
    check_replaceable(path, replaces)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _give_default_mode(tmp, folder=True)
        check_replaceable(path, replaces)  # it may have changed while we wrote
        if path.exists() or path.is_symlink():
            trash = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, trash / "old")
            os.replace(tmp, path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes | memoryview) -> str:
    """Return the hex SHA-256 of a bytes-like object."""
    return hashlib.sha256(data).hexdigest()


def array_digest(*arrays, salt: str = "") -> str:
    """Return the hex SHA-256 of arrays: each one's dtype, shape and bytes, in order.

    ``None`` entries are skipped, so optional arrays (labels of an alpha-0
    run) hash like absent ones. ``salt`` names what the arrays are, so equal
    bytes that mean different things get different digests.
    """
    return _DIGESTS.get(arrays, lambda: _digest(arrays, salt), extra=("array_digest", salt))


# Frozen arrays (a loaded dataset's images) are hashed once: a tutorial keys
# every fit served from the store by the same 60,000 training images.
_DIGESTS = FrozenMemo(max_bytes=1 << 20)


def _digest(arrays, salt: str) -> str:
    digest = hashlib.sha256(salt.encode())
    for array in arrays:
        if array is None:
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"|{array.dtype.str}:{array.shape}|".encode())
        digest.update(array.reshape(-1).view(np.uint8))
    return digest.hexdigest()

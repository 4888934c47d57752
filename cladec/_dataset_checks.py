"""Is this a plausible copy of the dataset? The checks every loaded source passes.

A dataset's registry entry (:class:`cladec.datasets.DatasetSpec`) gives its
image shape, class count, split sizes and the per-class counts of its
original release.
"""

from __future__ import annotations

import numpy as np

from .exceptions import InvalidInputError

__all__ = ["validate_arrays", "canonical_name"]

# every class of a K-class split holds between half and one and a half times 1/K
_MIN_SHARE, _MAX_SHARE = 0.5, 1.5


def canonical_name(name, registry) -> str:
    """``name`` in lower case with ``_`` for ``-``, if ``registry`` holds it."""
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in registry:
        raise InvalidInputError(
            f"unknown dataset {name!r}; accepted: "
            f"{', '.join(repr(n) for n in registry)} (case does not matter, '-' = '_')"
        )
    return key


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
    x_train : numpy.ndarray of uint8, shape (n_train, *image_shape)
        Training images.
    y_train : numpy.ndarray of int, shape (n_train,)
        Training labels; any integer dtype.
    x_test : numpy.ndarray of uint8, shape (n_test, *image_shape)
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
    from .datasets import DATASETS, DatasetSpec

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
    from .datasets import DATASETS

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

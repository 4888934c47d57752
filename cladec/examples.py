"""Which test images a figure shows: picked from the classifier's predictions, reproducibly.

The figures of the reference run show, per (dataset, layer), eight test
images: three the classifier got right and five it got wrong
(:func:`select_examples`), and for neuron subsets the first correctly
classified image of each class (:func:`first_correct_per_class`). These
functions take predicted labels, never a model: predicting is the caller's
step (``LayerExplanation.predicted`` in the tutorials).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .exceptions import InvalidInputError

__all__ = ["class_labels", "first_correct_per_class", "resolve_classes", "select_examples"]


def class_labels(values, n: int, name: str = "predictions") -> np.ndarray:
    """Labels int64 ``(n,)`` from labels or class scores ``(n, K)``; a model is refused.

    Parameters
    ----------
    values : ndarray
        int labels ``(n,)`` or class scores ``(n, K)`` (their argmax is taken).
    n : int
        How many images the labels belong to.
    name : str
        Names the argument in the error message.

    Returns
    -------
    ndarray
        int64 ``(n,)``.
    """
    if hasattr(values, "predict") or hasattr(values, "layers"):
        raise InvalidInputError(
            f"pass the classifier's predictions as {name} (labels (N,) or class scores (N, K)), "
            "not the classifier: e.g. cladec.metrics.predict_labels(classifier, x)"
        )
    arr = np.asarray(values)
    if arr.ndim == 2:
        arr = arr.argmax(axis=1)
    if arr.shape != (n,):
        raise InvalidInputError(
            f"{name} must be labels (N,) or class scores (N, K) for the {n} images; "
            f"got shape {arr.shape}"
        )
    return arr.astype(np.int64)


def resolve_classes(classes, class_names=None) -> np.ndarray | None:
    """Turn classes given by label or by name into int64 labels (``None`` stays ``None``).

    Parameters
    ----------
    classes : int, str, sequence or None
        Labels, or names looked up in ``class_names``.
    class_names : sequence of str or None
        The dataset's class names.

    Returns
    -------
    ndarray or None
        int64 labels.
    """
    if classes is None:
        return None
    if isinstance(classes, (str, int, np.integer)):
        classes = [classes]
    resolved = []
    for c in classes:
        if isinstance(c, str):
            names = list(class_names) if class_names is not None else []
            if c not in names:
                known = ", ".join(map(str, names)) or "none given"
                raise InvalidInputError(f"unknown class {c!r}; class names: {known}")
            resolved.append(names.index(c))
        else:
            resolved.append(int(c))
    return np.asarray(resolved, dtype=np.int64)


def select_examples(
    predictions,
    y,
    n_right: int = 3,
    n_wrong: int = 5,
    seed: int = 0,
    classes=None,
    *,
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Pick images the classifier got right and images it got wrong, reproducibly.

    Parameters
    ----------
    predictions : ndarray
        The classifier's labels int ``(N,)`` or class scores ``(N, K)``.
    y : ndarray
        int ``(N,)`` true labels.
    n_right, n_wrong : int
        How many correctly and wrongly classified images to pick. When fewer
        than ``n_wrong`` wrong ones exist, the rest are filled with right
        ones (and the other way round), so the total stays ``n_right + n_wrong``
        whenever enough images exist.
    seed : int
        Seeds the random choice.
    classes : int, str, sequence or None
        Only pick images whose true class is among these (labels, or names
        looked up in ``class_names``).
    class_names : sequence of str or None
        Needed to give ``classes`` by name.

    Returns
    -------
    ndarray
        int64 indices into the images: the right ones first, then the wrong ones,
        each group in ascending order.
    """
    y = np.asarray(y).astype(np.int64)
    pred = class_labels(predictions, len(y))
    pool = np.arange(len(y))
    wanted = resolve_classes(classes, class_names)
    if wanted is not None:
        pool = pool[np.isin(y, wanted)]
        if pool.size == 0:
            raise InvalidInputError(
                f"no images of classes {wanted.tolist()} among the {len(y)} given"
            )
    right = pool[pred[pool] == y[pool]]
    wrong = pool[pred[pool] != y[pool]]
    total = int(n_right) + int(n_wrong)
    k_wrong = min(int(n_wrong), wrong.size)
    k_right = min(total - k_wrong, right.size)
    k_wrong = min(total - k_right, wrong.size)
    rng = np.random.default_rng(seed)
    chosen_right = np.sort(rng.choice(right, k_right, replace=False)) if k_right else right[:0]
    chosen_wrong = np.sort(rng.choice(wrong, k_wrong, replace=False)) if k_wrong else wrong[:0]
    return np.concatenate([chosen_right, chosen_wrong]).astype(np.int64)


def first_correct_per_class(predictions, y, classes=None) -> np.ndarray:
    """The first correctly classified image of each class (the reference's subset figure).

    Parameters
    ----------
    predictions : ndarray
        As for :func:`select_examples`.
    y : ndarray
        int ``(N,)`` true labels.
    classes : sequence of int or None
        Default: every label present in ``y``, ascending.

    Returns
    -------
    ndarray
        int64 ``(len(classes),)`` indices; a class with no correct image
        gets its first image.
    """
    y = np.asarray(y).astype(np.int64)
    pred = class_labels(predictions, len(y))
    classes = np.unique(y) if classes is None else np.asarray(classes, dtype=np.int64)
    indices = []
    for c in classes:
        members = np.flatnonzero(y == c)
        if members.size == 0:
            raise InvalidInputError(f"no image of class {int(c)} among the {len(y)} given")
        correct = members[pred[members] == c]
        indices.append(correct[0] if correct.size else members[0])
    return np.asarray(indices, dtype=np.int64)

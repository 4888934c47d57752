"""Is a map faithful to the classifier? Deletion and insertion curves (Petsiuk et al., 2018).

A map ranks the pixels of its image. *Deletion* sets them to the baseline
(black, MNIST's background), most important first, and tracks the
classifier's probability for the class the map explains; a faithful map makes
it fall fast (small area under the curve). *Insertion* starts from the
baseline and reveals the pixels in the same order; a faithful map makes the
probability rise fast (large area). A random ordering is the floor every map
should beat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._inputs import as_images, image_shape_of
from ..exceptions import InvalidInputError
from .methods import class_probability

__all__ = [
    "MODES",
    "Curves",
    "perturbation_curves",
    "random_scores",
    "area_summary",
    "rank_correlation",
]

#: The two perturbation orders.
MODES = ("deletion", "insertion")


@dataclass(frozen=True)
class Curves:
    """Probability curves of one map per image under deletion or insertion.

    Parameters
    ----------
    mode : str
        ``"deletion"`` or ``"insertion"``.
    fractions : ndarray
        float ``(S + 1,)``: the fraction of pixels changed at each point, 0 to 1.
    probabilities : ndarray
        float32 ``(N, S + 1)``: the class probability at each point, per image.
    """

    mode: str
    fractions: np.ndarray
    probabilities: np.ndarray

    @property
    def areas(self) -> np.ndarray:
        """float ``(N,)``: each image's area under its curve (trapezoid rule over the fraction)."""
        p, f = self.probabilities, self.fractions
        return ((p[:, 1:] + p[:, :-1]) / 2 * np.diff(f)).sum(axis=1)

    def mean_curve(self) -> np.ndarray:
        """float ``(S + 1,)``: the curve averaged over images."""
        return self.probabilities.mean(axis=0)


def random_scores(shape, seed: int = 0) -> np.ndarray:
    """A map of uniform random scores: the random-ordering baseline.

    Parameters
    ----------
    shape : tuple
        ``(N, H, W)``.
    seed : int
        Seeds the generator.

    Returns
    -------
    ndarray
        float32 of ``shape``.
    """
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _check_scores(scores, x: np.ndarray) -> np.ndarray:
    arr = np.asarray(scores, np.float32)
    if arr.shape != x.shape[:3]:
        raise InvalidInputError(
            f"scores must hold one map per image, shape {x.shape[:3]}; got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("scores contain NaN or infinite values")
    return arr


def perturbation_curves(
    classifier,
    images,
    scores,
    mode: str,
    *,
    classes=None,
    steps: int = 49,
    baseline: float = 0.0,
    seed: int = 0,
    batch_size: int = 1024,
) -> Curves:
    """Delete (or insert) pixels in the order ``scores`` ranks them, highest first.

    Parameters
    ----------
    classifier : keras.Model or TrainedClassifier
        The explained classifier.
    images : ndarray
        uint8 ``(N, H, W)`` or float ``(N, H, W, C)`` in [0, 1].
    scores : ndarray
        float ``(N, H, W)``: one ranking per image; ties are broken in a
        random order (seeded by ``seed``).
    mode : {"deletion", "insertion"}
        Remove pixels from the image, or reveal them on the baseline.
    classes : None or int ndarray ``(N,)``
        The class whose probability is tracked. Default: the prediction on the
        unchanged image.
    steps : int
        Points after the first; each changes ``H * W / steps`` pixels (default
        49: 16 of MNIST's 784 per step).
    baseline : float
        The value of a deleted (or not yet inserted) pixel.
    seed : int
        Seeds the order of tied pixels.
    batch_size : int
        Images per classifier call.

    Returns
    -------
    Curves

    Raises
    ------
    ValueError
        For an unknown mode, images or scores of the wrong shape, or classes out of range.
    """
    from .._layer_explainer import as_model
    from ..training import predict_batched
    from .methods import _check_classes

    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InvalidInputError(f"steps must be a positive int; got {steps!r}")
    model = as_model(classifier)
    x = as_images(images, image_shape_of(model), name="images")
    ranking = _check_scores(scores, x)
    n, h, w, _c = x.shape

    def predicted():
        return predict_batched(model, x, batch_size).argmax(axis=1).astype(np.int32)

    cls = _check_classes(classes, n, int(model.output_shape[-1]), predicted)
    # Rank of each pixel: 0 for the highest score. Ties (Grad-CAM's zeros, the
    # black background of an ink map) are broken at random, seeded, not by
    # position, which would delete the top rows first.
    flat = ranking.reshape(n, h * w)
    shuffle = np.random.default_rng(seed).random(flat.shape)
    order = np.lexsort((shuffle, -flat), axis=1)
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(h * w)[None, :]
    rank = rank.reshape(n, h, w, 1)
    counts = np.round(np.linspace(0, h * w, steps + 1)).astype(np.int64)
    fill = np.float32(baseline)
    probabilities = np.empty((n, steps + 1), np.float32)
    for i, count in enumerate(counts):
        changed = rank < count
        if mode == "deletion":
            perturbed = np.where(changed, fill, x)
        else:
            perturbed = np.where(changed, x, fill)
        outputs = predict_batched(model, perturbed.astype(np.float32), batch_size)
        probabilities[:, i] = class_probability(outputs, cls).numpy()
    return Curves(mode, counts / float(h * w), probabilities)


def area_summary(areas) -> tuple[float, float]:
    """Mean and standard error of per-image areas.

    Parameters
    ----------
    areas : ndarray
        float ``(N,)``.

    Returns
    -------
    tuple of float
        ``(mean, standard error)``; the error is 0 for a single image.
    """
    arr = np.asarray(areas, np.float64)
    if arr.size == 0:
        raise InvalidInputError("areas is empty")
    sem = float(arr.std(ddof=1) / np.sqrt(arr.size)) if arr.size > 1 else 0.0
    return float(arr.mean()), sem


def _average_ranks(row: np.ndarray) -> np.ndarray:
    order = np.argsort(row, kind="stable")
    ranks = np.empty(row.size, np.float64)
    sorted_values = row[order]
    # Tied values share the mean of the ranks they span (Spearman's convention).
    first = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], row.size]
    # one array operation instead of a loop over tie groups (784 pixels, 30 maps a table)
    ranks[order] = ((starts + ends - 1) / 2.0)[np.cumsum(first) - 1]
    return ranks


def rank_correlation(maps_a, maps_b) -> np.ndarray:
    """Spearman rank correlation between paired maps, one number per image.

    Parameters
    ----------
    maps_a, maps_b : ndarray
        float ``(N, H, W)`` of the same shape.

    Returns
    -------
    ndarray
        float ``(N,)`` in [-1, 1]; 0 where either map is constant (no ranking).
    """
    a, b = np.asarray(maps_a, np.float64), np.asarray(maps_b, np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise InvalidInputError(
            f"maps_a and maps_b must be paired maps of one shape (N, H, W); "
            f"got {a.shape} and {b.shape}"
        )
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    out = np.zeros(len(a))
    for i, (row_a, row_b) in enumerate(zip(a, b)):
        ra, rb = _average_ranks(row_a), _average_ranks(row_b)
        ra, rb = ra - ra.mean(), rb - rb.mean()
        denom = np.sqrt((ra * ra).sum() * (rb * rb).sum())
        out[i] = (ra * rb).sum() / denom if denom > 0 else 0.0
    return out

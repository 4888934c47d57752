"""Is a decoder's output worth reading? Its distance to the class means, and how the classifier reads it.

A decoder that has learnt little more than the class of its input draws a
blurred class mean; one that has learnt less draws the same blob for every
input, which the classifier then reads as one class for nearly all of them.
Neither is a finding about the layer, and a figure of such reconstructions
must not be read as one. :func:`decoder_diagnostic` measures both, against
the simplest baseline there is: drawing the mean image of the input's class.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._inputs import as_images, as_labels, image_shape_of
from ._scores import _resolve_reconstructions
from .exceptions import CollapsedDecoderWarning, InvalidInputError
from .training import predict_batched

__all__ = ["CollapsedDecoderWarning", "class_means", "decoder_diagnostic", "describe_diagnostic"]

#: Above this share of the inputs read as one class, the reconstructions are called collapsed.
#: The largest class of MNIST is 11.4 % of its test set, of Fashion-MNIST 10 %.
COLLAPSE_SHARE = 0.5


def class_means(x, y, n_classes: int) -> np.ndarray:
    """The mean image of each class: float32 ``(n_classes, H, W, C)`` in [0, 1].

    Parameters
    ----------
    x : ndarray
        uint8 ``(N, H, W)`` or float ``(N, H, W, C)`` images (the training images).
    y : ndarray
        int ``(N,)`` labels.
    n_classes : int
        The number of classes; each must occur at least once.

    Returns
    -------
    ndarray
        One mean image per class.
    """
    arr = np.asarray(x)
    if arr.ndim not in (3, 4):
        raise InvalidInputError(
            f"x must be images (N, H, W) or (N, H, W, C); got shape {arr.shape}"
        )
    images = as_images(arr, (*arr.shape[1:3], arr.shape[3] if arr.ndim == 4 else 1))
    labels = as_labels(y, len(images), n_classes)
    counts = np.bincount(labels, minlength=n_classes)
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0).tolist()
        raise InvalidInputError(f"classes {missing} have no images; class means need every class")
    # Per class rather than np.add.at (1.8 s on 60,000 images). For pixels
    # from uint8 images the float64 sums are exact in any order (each pixel
    # is a multiple of 2**-31, the sums stay far below 2**53 such units).
    sums = np.stack([images[labels == c].sum(axis=0, dtype=np.float64) for c in range(n_classes)])
    return (sums / counts[:, None, None, None]).astype(np.float32)


def decoder_diagnostic(
    classifier,
    x,
    y,
    x_hat,
    *,
    means: np.ndarray,
    name: str = "decoder",
    batch_size: int = 512,
    warn: bool = True,
) -> dict:
    """Measure a decoder's reconstructions against the class-mean baseline, and warn when they collapse.

    Parameters
    ----------
    classifier : keras.Model
        The explained classifier; it reads the reconstructions.
    x : ndarray
        The test images (uint8 ``(N, H, W)`` or float ``(N, H, W, C)``).
    y : ndarray
        int ``(N,)`` their labels.
    x_hat : ndarray or explainer
        The reconstructions of ``x``, or a fitted explainer that makes them.
    means : ndarray
        :func:`class_means` of the training images.
    name : str
        The model, as the warning names it.
    batch_size : int
        Images per forward pass.
    warn : bool
        Issue a :class:`CollapsedDecoderWarning` when the reconstructions
        collapse (see ``collapsed`` below).

    Returns
    -------
    dict
        ``mse``: mean squared error per pixel of the reconstructions to the
        inputs; ``class_mean_mse``: the same for the baseline that draws each
        input's class mean; ``mse_to_class_means``: of the reconstructions to
        their input's class mean (small: the decoder draws little but the
        class); ``accuracy_on_reconstructions``: the classifier's, against the
        labels; ``majority_class`` and ``majority_share``: the class it reads
        most often among the reconstructions and the share of inputs read as
        it; ``collapsed``: ``majority_share > COLLAPSE_SHARE``.
    """
    images = as_images(x, image_shape_of(classifier))
    labels = as_labels(y, len(images), int(classifier.output_shape[-1]))
    rebuilt = _resolve_reconstructions(x_hat, images, batch_size)
    target_means = means[labels]
    read = predict_batched(classifier, rebuilt, batch_size).argmax(axis=1)
    counts = np.bincount(read, minlength=int(classifier.output_shape[-1]))
    majority = int(counts.argmax())
    result = {
        "mse": float(np.mean((rebuilt - images) ** 2)),
        "class_mean_mse": float(np.mean((target_means - images) ** 2)),
        "mse_to_class_means": float(np.mean((rebuilt - target_means) ** 2)),
        "accuracy_on_reconstructions": float(np.mean(read == labels)),
        "majority_class": majority,
        "majority_share": float(counts[majority] / len(read)),
        "n_images": int(len(read)),
    }
    result["collapsed"] = result["majority_share"] > COLLAPSE_SHARE
    if warn and result["collapsed"]:
        warnings.warn(
            f"{name}: the classifier reads {result['majority_share']:.0%} of its reconstructions "
            f"as class {majority} (accuracy on them {result['accuracy_on_reconstructions']:.4f}); "
            "they show too little of their inputs to be read as an explanation",
            CollapsedDecoderWarning,
            stacklevel=2,
        )
    return result


def describe_diagnostic(result: dict) -> str:
    """One line: the losses beside the class-mean baseline, the classifier's reading, a verdict.

    Parameters
    ----------
    result : dict
        What :func:`decoder_diagnostic` returned.

    Returns
    -------
    str
        E.g. ``"MSE/pixel 0.0843 (class means 0.0529; ...): COLLAPSED"``.
    """
    verdict = "COLLAPSED" if result["collapsed"] else "ok"
    return (
        f"MSE/pixel {result['mse']:.4f} (class means {result['class_mean_mse']:.4f}; "
        f"to its class mean {result['mse_to_class_means']:.4f}), read right "
        f"{result['accuracy_on_reconstructions']:.4f}, most read as class "
        f"{result['majority_class']} ({result['majority_share']:.1%}): {verdict}"
    )

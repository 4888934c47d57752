"""The losses of eq. 1: reconstruction, classification, and their blend.

    loss = (1 - alpha) * L_rec(x, x_hat) + alpha * L_cls(y, C(x_hat))

All functions take and return backend tensors (they run inside training
steps) and work on batches: images ``(B, H, W, C)`` float32, probabilities
``(B, K)``, one-hot labels ``(B, K)``.
"""

from __future__ import annotations

from keras import ops

__all__ = ["LOSS_SCALES", "reconstruction_loss", "classification_loss", "total_loss"]

LOSS_SCALES = ("sse", "mse")


def check_loss_scale(scale: str) -> str:
    if scale not in LOSS_SCALES:
        raise ValueError(
            f"reconstruction loss scale {scale!r} is not supported; accepted: "
            "'sse' (sum of squared errors per image, the reference scale) or "
            "'mse' (mean squared error per pixel, the authors' PyTorch code)"
        )
    return scale


def reconstruction_loss(x, x_hat, scale: str = "sse", *, reduce: bool = True):
    """Squared error between images: summed per image (``"sse"``) or averaged per pixel (``"mse"``).

    Returns the batch mean, or the per-image values ``(B,)`` when ``reduce=False``.
    """
    squared = ops.square(ops.cast(x, "float32") - ops.cast(x_hat, "float32"))
    per_image = (
        ops.sum(squared, axis=(1, 2, 3)) if scale == "sse" else ops.mean(squared, axis=(1, 2, 3))
    )
    return ops.mean(per_image) if reduce else per_image


def classification_loss(y_onehot, probabilities, *, reduce: bool = True):
    """Keras' categorical cross-entropy on probabilities (rows are normalised by their sum).

    This matches the reference run, whose classifier ends in a sigmoid layer:
    Keras divides the outputs by their sum before taking the log.
    """
    probabilities = ops.cast(probabilities, "float32")
    probabilities = probabilities / ops.sum(probabilities, axis=-1, keepdims=True)
    probabilities = ops.clip(probabilities, 1e-7, 1.0 - 1e-7)
    per_image = -ops.sum(ops.cast(y_onehot, "float32") * ops.log(probabilities), axis=-1)
    return ops.mean(per_image) if reduce else per_image


def total_loss(rec, cls, alpha: float):
    """Eq. 1: ``(1 - alpha) * rec + alpha * cls``."""
    return (1.0 - alpha) * rec + alpha * cls

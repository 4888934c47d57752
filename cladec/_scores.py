"""Scores from arrays already computed: the losses of eq. 1 and fidelity.

:mod:`cladec.metrics` computes the arrays (predictions, reconstructions)
and calls these; the reference evaluation calls them on arrays it shares
between many explainers.
"""

from __future__ import annotations

import numpy as np

from ._inputs import as_images
from .exceptions import InvalidInputError
from .losses import classification_loss, reconstruction_loss

__all__ = ["losses_from_arrays", "fidelity_from_predictions"]


def _resolve_reconstructions(source, images: np.ndarray, batch_size: int) -> np.ndarray:
    if hasattr(source, "reconstruct"):
        return np.asarray(source.reconstruct(images, batch_size=batch_size), dtype=np.float32)
    x_hat = as_images(source, images.shape[1:], name="x_hat")
    if x_hat.shape != images.shape:
        raise InvalidInputError(
            f"x_hat must hold one reconstruction per image of x, shape {images.shape}; "
            f"got shape {x_hat.shape}"
        )
    return x_hat


def losses_from_arrays(
    images: np.ndarray,
    x_hat: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    alpha: float | None,
    loss_scale: str,
    batch_size: int = 2048,
) -> dict:
    """The loss terms of eq. 1 from arrays already computed (what :func:`loss_terms` returns).

    Parameters
    ----------
    images, x_hat : ndarray
        float32 ``(N, H, W, C)`` originals and reconstructions in [0, 1].
    probabilities : ndarray
        ``(N, K)`` the classifier's output on ``x_hat``.
    labels : ndarray
        int ``(N,)`` class labels.
    alpha : float or None
        Weight of eq. 1; ``None`` (a RefAE) makes the total the reconstruction loss.
    loss_scale : {"sse", "mse"}
        Reconstruction loss per image summed or per-pixel mean.
    batch_size : int
        Images per chunk, to bound memory.

    Returns
    -------
    dict
        ``reconstruction_loss``, ``classification_loss``, ``total_loss``,
        ``alpha``, ``loss_scale``, ``n_images``.
    """
    num_classes = probabilities.shape[-1]
    rec_parts, cls_parts = [], []
    for begin in range(0, len(images), batch_size):
        batch = slice(begin, begin + batch_size)
        rec = reconstruction_loss(images[batch], x_hat[batch], loss_scale, reduce=False)
        rec_parts.append(np.asarray(rec))
        onehot = np.eye(num_classes, dtype=np.float32)[labels[batch]]
        cls = classification_loss(onehot, probabilities[batch], reduce=False)
        cls_parts.append(np.asarray(cls))
    rec = float(np.mean(np.concatenate(rec_parts), dtype=np.float64))
    cls = float(np.mean(np.concatenate(cls_parts), dtype=np.float64))
    total = rec if alpha is None else (1.0 - alpha) * rec + alpha * cls
    return {
        "reconstruction_loss": rec,
        "classification_loss": cls,
        "total_loss": float(total),
        "alpha": alpha,
        "loss_scale": loss_scale,
        "n_images": int(len(images)),
    }


def fidelity_from_predictions(pred_x, pred_hat, labels) -> dict:
    """Agreement and accuracies from predicted labels (what :func:`fidelity` returns).

    Parameters
    ----------
    pred_x, pred_hat : ndarray
        int ``(N,)`` the classifier's labels for the originals and the reconstructions.
    labels : ndarray or None
        int ``(N,)`` true labels; ``None`` leaves the accuracies ``None``.

    Returns
    -------
    dict
        ``agreement``, ``accuracy_on_reconstructions``, ``accuracy_on_originals``, ``n_images``.
    """
    result = {
        "agreement": float(np.mean(pred_x == pred_hat)),
        "accuracy_on_reconstructions": None,
        "accuracy_on_originals": None,
        "n_images": int(len(pred_x)),
    }
    if labels is not None:
        result["accuracy_on_reconstructions"] = float(np.mean(pred_hat == labels))
        result["accuracy_on_originals"] = float(np.mean(pred_x == labels))
    return result

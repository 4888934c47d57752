"""The losses of eq. 1: reconstruction, classification, and their blend.

    loss = (1 - alpha) * L_rec(x, x_hat) + alpha * L_cls(y, C(x_hat))

All functions take and return backend tensors (they run inside training
steps) and work on batches: images ``(B, H, W, C)`` float32, probabilities
``(B, K)``, one-hot labels ``(B, K)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from keras import ops

from ._registry import add_entry
from .exceptions import InvalidInputError

__all__ = [
    "LOSS_SCALES",
    "LOSSES",
    "DEFAULT_LOSS",
    "Eq1Loss",
    "register_loss",
    "get_loss",
    "reconstruction_loss",
    "classification_loss",
    "total_loss",
]

LOSS_SCALES = ("sse", "mse")


def check_loss_scale(scale: str) -> str:
    if scale not in LOSS_SCALES:
        raise InvalidInputError(
            f"reconstruction loss scale {scale!r} is not supported; accepted: "
            "'sse' (sum of squared errors per image, the reference scale) or "
            "'mse' (mean squared error per pixel, the authors' PyTorch code)"
        )
    return scale


def reconstruction_loss(x, x_hat, scale: str = "sse", *, reduce: bool = True):
    """Squared error between images: summed per image (``"sse"``) or averaged per pixel (``"mse"``).

    Parameters
    ----------
    x, x_hat : tensor
        float32 ``(B, H, W, C)`` images and their reconstructions.
    scale : {"sse", "mse"}
        Sum of squared errors per image (the reference's) or their mean per pixel.
    reduce : bool
        Return the batch mean (default) or the per-image values.

    Returns
    -------
    tensor
        float32 scalar, or ``(B,)`` when ``reduce=False``.
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

    Parameters
    ----------
    y_onehot : tensor
        float32 ``(B, K)`` one-hot labels.
    probabilities : tensor
        float32 ``(B, K)`` class scores in [0, 1].
    reduce : bool
        Average over the batch (default); False keeps one cross-entropy per image.

    Returns
    -------
    tensor
        The batch mean, a float32 scalar; ``(B,)`` values when not reduced.
    """
    probabilities = ops.cast(probabilities, "float32")
    probabilities = probabilities / ops.sum(probabilities, axis=-1, keepdims=True)
    probabilities = ops.clip(probabilities, 1e-7, 1.0 - 1e-7)
    per_image = -ops.sum(ops.cast(y_onehot, "float32") * ops.log(probabilities), axis=-1)
    return ops.mean(per_image) if reduce else per_image


def total_loss(rec, cls, alpha: float):
    """Eq. 1: ``(1 - alpha) * rec + alpha * cls``.

    Parameters
    ----------
    rec, cls : tensor
        The reconstruction and classification terms.
    alpha : float
        The weight of the classification term, in [0, 1].

    Returns
    -------
    tensor
        The blended loss.
    """
    return (1.0 - alpha) * rec + alpha * cls


@dataclass(frozen=True)
class Eq1Loss:
    """Eq. 1 as a decoder trains on it: its two terms, and the name that keys its models.

    The ``name`` enters the store key of every decoder and autoencoder
    trained with the loss, so a changed loss never serves models trained
    with another: give a changed loss a new name.

    Parameters
    ----------
    name : str
        Unique among the registered losses; ``"eq1"`` is the reference's.
    reconstruction : callable
        ``reconstruction(x, x_hat, scale)``: the batch mean of a per-image
        reconstruction loss of float32 ``(B, H, W, C)`` images.
    classification : callable
        ``classification(y_onehot, probabilities)``: the batch mean of a
        classification loss of ``(B, K)`` tensors.
    """

    name: str
    reconstruction: Callable = reconstruction_loss
    classification: Callable = classification_loss

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInputError(f"a loss needs a non-empty name; got {self.name!r}")
        for term in ("reconstruction", "classification"):
            if not callable(getattr(self, term)):
                raise InvalidInputError(
                    f"loss {self.name!r}: {term} must be a function of tensors; "
                    f"got {type(getattr(self, term)).__name__}"
                )


#: The registered losses by name; ``"eq1"`` is eq. 1 as the reference trains it.
LOSSES: dict[str, Eq1Loss] = {"eq1": Eq1Loss("eq1")}

#: The loss explainers train with unless given another (its name keys the shipped models).
DEFAULT_LOSS = "eq1"


def register_loss(loss: Eq1Loss, *, replace: bool = False) -> Eq1Loss:
    """Make ``loss`` available by its name (``ClaDec(..., loss=name)``, saved explainers).

    Parameters
    ----------
    loss : Eq1Loss
        The loss; a taken name is refused with an :class:`~cladec.InvalidInputError`.
    replace : bool
        Replace the loss registered under the same name instead.

    Returns
    -------
    Eq1Loss
        ``loss``.
    """
    return add_entry(
        LOSSES,
        loss,
        Eq1Loss,
        replace=replace,
        what="loss",
        hint="give yours another name (the name keys the stored models) or pass replace=True",
    )


def get_loss(loss: str | Eq1Loss) -> Eq1Loss:
    """The :class:`Eq1Loss` for a registered name, or ``loss`` itself.

    Parameters
    ----------
    loss : str or Eq1Loss
        A registered name (``"eq1"``) or a loss.

    Returns
    -------
    Eq1Loss
        The loss.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the registered ones) or another type.
    """
    if isinstance(loss, Eq1Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    raise InvalidInputError(
        f"unknown loss {loss!r}; accepted: an Eq1Loss or one of the registered names "
        f"{sorted(LOSSES)} (see cladec.losses.register_loss)"
    )

"""Checks on what users pass in: images, labels, alphas. Errors say what came and what is accepted."""

from __future__ import annotations

import numbers

import numpy as np

from ._frozen import FrozenMemo, freeze
from .exceptions import InvalidInputError

__all__ = ["as_images", "as_labels", "check_alpha", "check_target", "image_shape_of"]

#: What eq. 1's classification term can ask the classifier to see.
TARGETS = ("labels", "predictions")


def as_images(x, image_shape=(28, 28, 1), *, name: str = "x") -> np.ndarray:
    """Return ``x`` as float32 ``(N, H, W, C)`` in [0, 1].

    Accepted: uint8 ``(N, H, W)`` or ``(N, H, W, C)`` (divided by 255), or a
    float array of the same shapes with values in [0, 1]. A missing channel
    axis is added when ``C == 1``. A float input comes back as it is; a uint8
    one as a new read-only array, converted once per frozen input (a loaded
    dataset's images, see :mod:`cladec._frozen`).
    """
    height, width, channels = (int(s) for s in image_shape)
    expected = (
        f"uint8 (N, {height}, {width}{', ' + str(channels) if channels != 1 else ''}) or float "
        f"(N, {height}, {width}, {channels}) in [0, 1]"
    )
    arr = np.asarray(x)
    if arr.ndim == 3 and channels == 1:
        arr = arr[..., np.newaxis]
    if arr.ndim != 4 or arr.shape[1:] != (height, width, channels):
        raise InvalidInputError(f"{name} must be images of shape {expected}; got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InvalidInputError(f"{name} holds no images (shape {arr.shape}); expected {expected}")
    if arr.dtype == np.uint8:
        return _CONVERTED.get((arr,), lambda: _to_unit_range(arr), extra=("as_images",))
    if not np.issubdtype(arr.dtype, np.floating):
        raise InvalidInputError(f"{name} must be {expected}; got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} contains NaN or infinite values; expected {expected}")
    low, high = float(arr.min()), float(arr.max())
    if low < 0.0 or high > 1.0:
        hint = " (did you forget to divide uint8 pixels by 255?)" if high > 1.0 else ""
        raise InvalidInputError(
            f"{name} must hold values in [0, 1]; got values in [{low:g}, {high:g}]{hint}"
        )
    return arr


def _to_unit_range(arr: np.ndarray) -> np.ndarray:
    return freeze(arr.astype(np.float32) / np.float32(255.0))


# A frozen dataset's images (see cladec._frozen) are converted once and shared
# read-only; 400 MB holds MNIST's and Fashion-MNIST's 60,000 training images.
_CONVERTED = FrozenMemo(max_bytes=400 * 2**20)


def as_labels(y, n: int, num_classes: int, *, name: str = "y") -> np.ndarray:
    """Return integer class labels ``(n,)`` as int64, checking length and range."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == num_classes and arr.shape[0] == n:
        arr = arr.argmax(axis=1)  # one-hot rows
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be integer class labels of shape ({n},); got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise InvalidInputError(f"{name} has {arr.shape[0]} labels but there are {n} images")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InvalidInputError(f"{name} must hold integer class labels; got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise InvalidInputError(
            f"{name} must hold class labels in 0..{num_classes - 1}; got values in "
            f"[{arr.min()}, {arr.max()}]"
        )
    return arr.astype(np.int64)


def check_alpha(alpha) -> float:
    """Return ``alpha`` as a float in [0, 1], or raise a ValueError that names it."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise InvalidInputError(f"alpha must be a number in [0, 1]; got {alpha!r}")
    value = float(alpha)
    if not 0.0 <= value <= 1.0:
        hint = (
            f" (did you mean {value / 100:g}? alphas are fractions, not percent)"
            if 1 < value <= 100
            else ""
        )
        raise InvalidInputError(f"alpha must be in [0, 1]; got {alpha!r}{hint}")
    return value


def check_target(target) -> str:
    """Return ``target`` if it is one of :data:`TARGETS`, or raise a ValueError that names it."""
    if target not in TARGETS:
        raise InvalidInputError(
            f"target must be 'labels' (the true classes, the reference) or 'predictions' "
            f"(the classifier's own); got {target!r}"
        )
    return target


def image_shape_of(model) -> tuple[int, int, int]:
    """Return the ``(H, W, C)`` image shape a Keras model takes, or refuse a model that takes no images."""
    shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else ()
    if len(shape) != 3 or not all(isinstance(s, int) for s in shape):
        raise InvalidInputError(
            f"the classifier must take images (N, H, W, C); "
            f"{getattr(model, 'name', type(model).__name__)!r} takes input shape "
            f"{getattr(model, 'input_shape', None)}"
        )
    return tuple(int(s) for s in shape)

"""Neuron subsets: which units of a layer a decoder reads.

The reference explains the first ``int(n * p)`` units of a layer
(method.md, section 6); any index list, or the ``k`` most active units, is the
natural generalisation.
"""

from __future__ import annotations

import keras
import numpy as np

from .exceptions import InvalidInputError

__all__ = ["resolve_units", "SelectUnits"]


def resolve_units(units, top_k: int | None, n: int, codes: np.ndarray | None = None) -> np.ndarray:
    """Turn a neuron-subset request into sorted unit indices of a layer with ``n`` units.

    Parameters
    ----------
    units : None, float or sequence of int
        ``None``: every unit. A float ``p`` in (0, 1]: the first ``int(n * p)``
        units (the reference's prefix rule). A sequence: those unit indices.
    top_k : int or None
        Instead of ``units``: the ``k`` units with the largest mean activation
        over ``codes``.
    n : int
        Number of units in the (flattened) layer.
    codes : ndarray or None
        ``(N, n)`` activations, needed for ``top_k``.

    Returns
    -------
    ndarray
        int64 unit indices, sorted, unique, non-empty.
    """
    if units is not None and top_k is not None:
        raise InvalidInputError("give either units (a fraction or indices) or top_k, not both")
    if top_k is not None:
        if (
            isinstance(top_k, bool)
            or not isinstance(top_k, (int, np.integer))
            or not 1 <= top_k <= n
        ):
            raise InvalidInputError(
                f"top_k must be an integer in 1..{n} (the layer's units); got {top_k!r}"
            )
        if codes is None:
            raise InvalidInputError("top_k needs the layer activations: call fit() first")
        order = np.argsort(-codes.mean(axis=0), kind="stable")
        return np.sort(order[: int(top_k)]).astype(np.int64)
    if units is None:
        return np.arange(n, dtype=np.int64)
    if isinstance(units, (float, np.floating)):
        if not 0.0 < units <= 1.0:
            raise InvalidInputError(f"a fraction of units must be in (0, 1]; got {units!r}")
        k = int(n * float(units))
        if k == 0:
            raise InvalidInputError(
                f"units={units!r} keeps int({n} * {units}) = 0 of {n} units: the subset is empty"
            )
        return np.arange(k, dtype=np.int64)
    if isinstance(units, (int, np.integer, bool, str)):
        raise InvalidInputError(
            f"units must be a fraction in (0, 1] (e.g. 0.5), a list of unit indices (e.g. [0, 3, 7]) "
            f"or None; got {units!r} (for the k most active units pass top_k={units!r})"
        )
    arr = np.asarray(list(units))
    if arr.size == 0:
        raise InvalidInputError("units is an empty list: a subset needs at least one unit")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"unit indices must be integers; got {arr.dtype} values")
    bad = arr[(arr < 0) | (arr >= n)]
    if bad.size:
        raise InvalidInputError(
            f"unit indices {bad.tolist()[:10]} are out of range for a layer of {n} units (0..{n - 1})"
        )
    if np.unique(arr).size != arr.size:
        raise InvalidInputError("unit indices must not repeat")
    return np.sort(arr).astype(np.int64)


@keras.saving.register_keras_serializable(package="cladec")
class SelectUnits(keras.layers.Layer):
    """Keep the given units of a flat code: ``(B, n) -> (B, len(indices))``.

    Parameters
    ----------
    indices : sequence of int
        The unit indices to keep, in the order given (stored as a list of int).
    **kwargs
        Passed to ``keras.layers.Layer`` (e.g. ``name``).
    """

    def __init__(self, indices, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]

    def call(self, inputs):
        return keras.ops.take(inputs, self.indices, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.indices))

    def get_config(self):
        """Return the layer's config for saving: the base ``Layer`` config plus ``indices``.

        Returns
        -------
        dict
            ``keras.layers.Layer.get_config()`` with ``"indices"``: list of int.
        """
        return {**super().get_config(), "indices": self.indices}

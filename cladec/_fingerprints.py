"""Fingerprints of a Keras model: its architecture and its weights, each as one SHA-256.

Below the store (which keys models by them) so the inference passes of
:mod:`cladec._forward` can recognise the same model loaded twice.
"""

from __future__ import annotations

import json

import numpy as np

from ._atomic import array_digest

__all__ = ["fingerprint_model", "architecture_digest", "renamed"]


def fingerprint_model(model) -> str:
    """SHA-256 over a model's weight shapes and values, in layer order.

    Names are left out on purpose: Keras numbers auto-named layers per
    session, so the same architecture and weights would otherwise hash differently.

    Parameters
    ----------
    model : keras.Model
        Any object with a ``weights`` list of variables or arrays.

    Returns
    -------
    str
        The hex SHA-256 digest.
    """
    return array_digest(
        *(np.asarray(w.numpy() if hasattr(w, "numpy") else w) for w in model.weights)
    )


def _nested_layers(layer):
    yield layer
    for inner in getattr(layer, "layers", None) or ():
        if inner is not layer:
            yield from _nested_layers(inner)


def renamed(value, names: dict):
    """``value`` (a Keras config) with every string in ``names`` replaced by its value."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {key: renamed(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [renamed(item, names) for item in value]
    return value


def architecture_digest(model) -> str:
    """A hash of a model's Keras config: its layers, their settings and how they connect.

    Two functions that build the same layers with the same settings give the
    same digest; another activation, kernel size, layer order or wiring
    gives another. Keras numbers auto-named layers per session
    (``dense_3``), so every layer name, nested models' included, is replaced
    by its position before hashing.

    Parameters
    ----------
    model : keras.Model
        A built model; a subclassed model without a config is hashed by its
        layers' configs.

    Returns
    -------
    str
        The hex SHA-256 digest.
    """
    names: dict[str, str] = {}
    for layer in _nested_layers(model):
        names.setdefault(layer.name, f"layer{len(names)}")
    try:
        config = model.get_config()
    except NotImplementedError:
        config = [[type(layer).__name__, layer.get_config()] for layer in model.layers]
    text = json.dumps([type(model).__name__, renamed(config, names)], sort_keys=True, default=str)
    return array_digest(np.frombuffer(text.encode(), dtype=np.uint8))

"""The model-parameter randomisation test (Adebayo et al., 2018), layer by layer from the top.

An explanation of a classifier should change when the classifier does. The
test re-initialises the trained weights from the output layer down, one
stage at a time (a cascade), recomputes each method's maps for the same
images and classes, and measures how much of the trained model's ranking of
the pixels survives (:func:`cladec.faithfulness.rank_correlation`). A method
whose maps barely change once the weights are random explains the image, not
the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from ..exceptions import InvalidInputError

__all__ = ["CASCADES", "cascade_for", "randomised_copy", "cascading_randomisation"]

#: Stages of the cascade per reference architecture, output first; a stage
#: re-initialises its layers on top of every earlier stage's.
CASCADES = {
    "perfect": (("scores",), ("my_dense",), ("conv2", "bn2"), ("conv1", "bn1")),
    "diff": (("my_dense",), ("conv2", "bn2"), ("conv1", "bn1")),
}


def cascade_for(model: keras.Model) -> tuple[tuple[str, ...], ...]:
    """The cascade of a reference classifier, or every layer with weights, output first.

    Parameters
    ----------
    model : keras.Model
        The classifier.

    Returns
    -------
    tuple of tuple of str
        Layer names per stage.
    """
    from ..architectures import classifier_kind

    kind = classifier_kind(model)
    if kind in CASCADES:
        return CASCADES[kind]
    return tuple((layer.name,) for layer in reversed(model.layers) if layer.weights)


def _reinitialise(layer: keras.layers.Layer, seed: int) -> None:
    config = layer.get_config()
    # Every initialiser gets its own explicit seed, so the new weights depend on
    # the seed alone, never on global random state (the decoders trained on a
    # randomised classifier are stored under its weights' fingerprint).
    for k, name in enumerate(sorted(n for n in config if n.endswith("_initializer"))):
        spec = config[name]
        if isinstance(spec, dict) and "seed" in spec.get("config", {}):
            config[name] = {**spec, "config": {**spec["config"], "seed": seed * 100 + k}}
    fresh = type(layer).from_config(config)
    fresh.build(layer.input.shape)
    layer.set_weights(fresh.get_weights())


def randomised_copy(model: keras.Model, layers: Sequence[str], *, seed: int = 0) -> keras.Model:
    """A copy of ``model`` with ``layers`` re-initialised; ``model`` is left unchanged.

    Parameters
    ----------
    model : keras.Model
        The trained classifier.
    layers : sequence of str
        Names of the layers to re-initialise with their own initialisers.
    seed : int
        Seeds the new weights (each layer gets ``seed`` plus its position).

    Returns
    -------
    keras.Model
        Same architecture and name, the other layers' trained weights.

    Raises
    ------
    ValueError
        If a name is not a layer of ``model`` with weights.
    """
    with_weights = [layer.name for layer in model.layers if layer.weights]
    unknown = [name for name in layers if name not in with_weights]
    if unknown:
        raise InvalidInputError(
            f"cannot re-initialise {', '.join(map(repr, unknown))}: not a layer of "
            f"{model.name!r} with weights; layers with weights: {', '.join(with_weights)}"
        )
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for position, name in enumerate(with_weights):
        if name in layers:
            _reinitialise(copy.get_layer(name), seed + position)
    return copy


def cascading_randomisation(model: keras.Model, *, seed: int = 0) -> list[tuple[str, keras.Model]]:
    """The trained model, then one copy per stage of its cascade, top down.

    Parameters
    ----------
    model : keras.Model
        The trained classifier.
    seed : int
        Seeds the new weights.

    Returns
    -------
    list of (str, keras.Model)
        ``("trained", model)``, then ``("+scores", copy)``, ``("+my_dense", copy)``,
        ...: the label names the stage's first layer, each copy random from
        the output down to that stage.
    """
    stages = [("trained", model)]
    randomised: list[str] = []
    for stage in cascade_for(model):
        randomised.extend(stage)
        stages.append((f"+{stage[0]}", randomised_copy(model, randomised, seed=seed)))
    return stages


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy of a (randomised) classifier: the check that a stage really broke it."""
    from ..training import predict_batched

    return float((predict_batched(model, x).argmax(axis=1) == y).mean())

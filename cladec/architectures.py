"""The classifiers and decoders of the reference evaluation (Keras 3).

Two classifiers for 28x28x1 images and 10 classes:

``"perfect"``
    A small VGG-like network (422,026 parameters). ``my_conv`` is the second
    max-pooling layer (7x7x64 = 3136 units), ``my_dense`` the 128-unit ReLU layer.
``"diff"``
    A deliberately weaker network (21,770 parameters) with strided
    convolutions. ``my_conv`` is the flatten layer (256 units) and ``my_dense``
    the 10-way softmax output.

Decoders rebuild a 28x28x1 image in [0, 1] from a flat code vector. The
reference decoders are chosen by :func:`build_decoder` from the classifier kind
and layer; any other (classifier, layer) pair gets :func:`generic_decoder`.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from .config import CLASSIFIER_KINDS
from .exceptions import InvalidInputError

__all__ = [
    "CLASSIFIER_KINDS",
    "INPUT_SHAPE",
    "build_classifier",
    "build_decoder",
    "classifier_kind",
    "generic_decoder",
    "resolve_layer",
]

INPUT_SHAPE = (28, 28, 1)
_NAME_PREFIX = "cladec_"


def build_classifier(kind: str = "perfect", *, num_classes: int = 10) -> keras.Model:
    """Build an untrained reference classifier.

    Parameters
    ----------
    kind : {"perfect", "diff"}
        ``"perfect"``: the VGG-like network of the reference run (422,026
        parameters, sigmoid outputs). ``"diff"``: the weaker strided network
        (21,770 parameters, softmax outputs).
    num_classes : int
        Width of the output layer.

    Returns
    -------
    keras.Model
        A functional model mapping float32 ``(N, 28, 28, 1)`` images in [0, 1]
        to ``(N, num_classes)`` class scores, with layers named ``my_conv`` and
        ``my_dense``. Its ``name`` (``"cladec_perfect"`` / ``"cladec_diff"``) lets
        :func:`classifier_kind` recognise it later.
    """
    kind = _check_kind(kind)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    if kind == "perfect":
        x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(inputs)
        x = layers.BatchNormalization(name="bn1")(x)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
        x = layers.BatchNormalization(name="bn2")(x)
        x = layers.MaxPooling2D(2, name="my_conv")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dropout(0.5, name="dropout")(x)
        x = layers.Dense(128, activation="relu", name="my_dense")(x)
        outputs = layers.Dense(num_classes, activation="sigmoid", name="scores")(x)
    else:
        x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1")(inputs)
        x = layers.BatchNormalization(name="bn1")(x)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
        x = layers.BatchNormalization(name="bn2")(x)
        x = layers.MaxPooling2D(2, name="pool2")(x)
        x = layers.Flatten(name="my_conv")(x)
        x = layers.Dropout(0.5, name="dropout")(x)
        outputs = layers.Dense(num_classes, activation="softmax", name="my_dense")(x)
    return keras.Model(inputs, outputs, name=_NAME_PREFIX + kind)


def classifier_kind(model: keras.Model) -> str | None:
    """Return ``"perfect"`` or ``"diff"`` for a model built here, else ``None``.

    Parameters
    ----------
    model : keras.Model
        Recognised by its ``name``, as :func:`build_classifier` sets it
        (``"cladec_perfect"``, or that name followed by ``"_..."``).

    Returns
    -------
    str or None
        The classifier kind, or ``None`` for any other model.
    """
    name = getattr(model, "name", "") or ""
    for kind in CLASSIFIER_KINDS:
        if name == _NAME_PREFIX + kind or name.startswith(_NAME_PREFIX + kind + "_"):
            return kind
    return None


def resolve_layer(model: keras.Model, layer: str | int) -> keras.layers.Layer:
    """Return the layer of ``model`` named ``layer``, or at index ``layer``.

    Parameters
    ----------
    model : keras.Model
        The model to look in.
    layer : str or int
        A layer name, or an index into ``model.layers`` (negative counts
        from the end).

    Returns
    -------
    keras.layers.Layer
        The layer itself.

    Raises
    ------
    ValueError
        For an unknown name or an index out of range; the message lists the
        model's layer names.
    """
    names = [lay.name for lay in model.layers]
    if isinstance(layer, bool) or not isinstance(layer, (str, int)):
        raise InvalidInputError(
            f"layer must be a layer name or an integer index, got {type(layer).__name__} "
            f"{layer!r}; layers of {model.name!r}: {', '.join(names)}"
        )
    if isinstance(layer, str):
        if layer not in names:
            raise InvalidInputError(
                f"model {model.name!r} has no layer named {layer!r}; its layers are: "
                f"{', '.join(names)}"
            )
        return model.get_layer(layer)
    if not -len(names) <= layer < len(names):
        raise InvalidInputError(
            f"layer index {layer} is out of range for model {model.name!r} with "
            f"{len(names)} layers: {', '.join(f'{i}:{n}' for i, n in enumerate(names))}"
        )
    return model.layers[layer]


def build_decoder(
    code_size: int,
    *,
    classifier_kind: str | None = None,
    layer_name: str | None = None,
    spatial_shape: tuple[int, int, int] | None = None,
    output_shape: tuple[int, int, int] = INPUT_SHAPE,
    name: str = "decoder",
) -> keras.Model:
    """Build the decoder that the reference run pairs with a classifier layer.

    Parameters
    ----------
    code_size : int
        Length of the flat code vector the decoder reads.
    classifier_kind : {"perfect", "diff", None}
        Kind of the explained classifier (see :func:`classifier_kind`).
    layer_name : str or None
        Name of the explained layer.
    spatial_shape, output_shape
        Passed to :func:`generic_decoder` when no reference decoder applies.
    name : str
        Name of the returned model.

    Returns
    -------
    keras.Model
        Maps float32 ``(N, code_size)`` codes to ``(N, 28, 28, 1)`` images in
        [0, 1]. For the perfect classifier's ``my_dense`` (128 units) and
        ``my_conv`` (3136 units) these are the reference decoders (149,889 and
        66,625 parameters); for the diff classifier the weak Dense(49) decoder
        for any code size; otherwise :func:`generic_decoder`.
    """
    if code_size < 1:
        raise InvalidInputError(f"code_size must be a positive integer, got {code_size}")
    codes = keras.Input((code_size,), name="code")
    reference = tuple(output_shape) == INPUT_SHAPE
    if reference and classifier_kind == "perfect" and layer_name == "my_dense" and code_size == 128:
        x = layers.Reshape((1, 1, 128))(codes)
        x = layers.Conv2DTranspose(64, 4, strides=2, padding="valid", activation="relu")(x)
        x = layers.Conv2DTranspose(32, 3, strides=2, padding="valid", activation="relu")(x)
        image = layers.Conv2DTranspose(
            1, 3, strides=3, padding="valid", output_padding=1, activation="sigmoid"
        )(x)
    elif (
        reference
        and classifier_kind == "perfect"
        and layer_name == "my_conv"
        and code_size == 7 * 7 * 64
    ):
        x = layers.Reshape((7, 7, 64))(codes)
        x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu")(x)
        image = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid")(x)
    elif reference and classifier_kind == "diff":
        x = layers.Dense(49, activation="relu")(codes)
        x = layers.Reshape((7, 7, 1))(x)
        x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
        image = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(x)
    else:
        return generic_decoder(
            code_size, spatial_shape=spatial_shape, output_shape=output_shape, name=name
        )
    return keras.Model(codes, image, name=name)


def generic_decoder(
    code_size: int,
    *,
    spatial_shape: tuple[int, int, int] | None = None,
    output_shape: tuple[int, int, int] = INPUT_SHAPE,
    name: str = "decoder",
) -> keras.Model:
    """A default decoder for a layer of any classifier.

    Parameters
    ----------
    code_size : int
        Length of the flat code vector.
    spatial_shape : tuple of int or None
        ``(height, width, channels)`` of the explained layer when it is a
        feature map whose flattening is the code; the decoder then keeps the
        spatial layout (reshape, then stride-2 transposed convolutions).
        ``None`` for a flat layer: a Dense layer first maps the code to 7x7x32.
    output_shape : tuple of int
        ``(height, width, channels)`` of the rebuilt images.
    name : str
        Name of the returned model.

    Returns
    -------
    keras.Model
        Maps float32 ``(N, code_size)`` to ``(N, *output_shape)`` in [0, 1].
    """
    height, width, channels = output_shape
    codes = keras.Input((code_size,), name="code")
    if spatial_shape is not None and math.prod(spatial_shape) == code_size:
        x = layers.Reshape(tuple(spatial_shape))(codes)
        size = spatial_shape[0]
    else:
        x = layers.Dense(7 * 7 * 32, activation="relu")(codes)
        x = layers.Reshape((7, 7, 32))(x)
        size = 7
    filters = 64
    while size < height:
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", activation="relu")(x)
        size *= 2
        filters = max(16, filters // 2)
    if (x.shape[1], x.shape[2]) != (height, width):
        x = layers.Resizing(height, width, interpolation="bilinear")(x)
    image = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(codes, image, name=name)


def _check_kind(kind: str) -> str:
    if kind not in CLASSIFIER_KINDS:
        raise InvalidInputError(
            f"unknown classifier kind {kind!r}; accepted: {', '.join(map(repr, CLASSIFIER_KINDS))}"
        )
    return kind

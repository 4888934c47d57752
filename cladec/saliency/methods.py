"""Saliency maps of a Keras image classifier: gradient, SmoothGrad, Integrated Gradients, Grad-CAM.

These are the heat maps ClaDec is compared with (tutorial 05 and
:mod:`cladec.saliency.faithfulness`). Every method explains one class score per image:
by default the class's *logit*, the output layer's input to its sigmoid or
softmax, as Simonyan et al. and Grad-CAM do. The probability itself saturates
on a well-trained classifier: the shipped MNIST classifier's gradients of its
class probability are about 1e-8, at float32's rounding noise.
``score="probability"`` explains ``p_c(x) = s_c(x) / sum_k s_k(x)`` instead,
where ``s`` is the model's output (for a softmax, the output itself; for the
reference's sigmoid "perfect" classifier, the normalised score its loss and
predictions use).

All methods are batched over images (and over noise samples or path steps).
Google PAIR's ``saliency`` package computes the same maps one image per call
(the tests check that both give the same maps); its SmoothGrad makes one model call per
noise sample and image, 6 times slower than the batched version here.

Every method, built-in or added, is a
:class:`~cladec.saliency.registry.SaliencyMethod` in
:data:`~cladec.saliency.registry.REGISTRY`; :mod:`cladec.saliency.registry`
says how to add one.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from .._forward import drop_retracing_hint
from .._inputs import as_images, image_shape_of
from ..exceptions import InvalidInputError
from .registry import _REGISTRY, SaliencyMethod, _register_built_in

__all__ = [
    "METHODS",
    "SCORES",
    "saliency_maps",
    "all_saliency_maps",
    "spatial_layers",
    "class_probability",
]

#: The built-in saliency methods, in the order the comparison shows them (the
#: default of :func:`all_saliency_maps` and :func:`cladec.saliency.comparison.method_maps`).
METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")
#: The class score a map explains.
SCORES = ("logit", "probability")


def class_probability(outputs, classes):
    """``outputs[i, classes[i]] / sum(outputs[i])``: the probability each map explains.

    Parameters
    ----------
    outputs : tensor or ndarray
        ``(N, K)`` non-negative class scores (softmax or sigmoid outputs).
    classes : tensor or ndarray
        int ``(N,)`` class indices.

    Returns
    -------
    tensor
        float32 ``(N,)``.
    """
    outputs = tf.convert_to_tensor(outputs, tf.float32)
    picked = tf.gather(outputs, tf.cast(classes, tf.int32), axis=1, batch_dims=1)
    return picked / tf.maximum(tf.reduce_sum(outputs, axis=1), 1e-12)


def spatial_layers(model: keras.Model) -> list[str]:
    """Names of the layers whose output is a feature map ``(N, h, w, c)`` (Grad-CAM's candidates).

    Parameters
    ----------
    model : keras.Model
        Any Keras model.

    Returns
    -------
    list of str
        The layer names, input to output.
    """
    names = []
    for layer in model.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and not isinstance(layer, keras.layers.InputLayer):
            names.append(layer.name)
    return names


def _check_classes(classes, n: int, num_classes: int, predicted) -> np.ndarray:
    if classes is None:
        return predicted()
    arr = np.asarray(classes)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(
            f"classes must be None (the predicted class), one int, or int ({n},) class indices; "
            f"got {arr.dtype} array of shape {arr.shape}"
        )
    if arr.min() < 0 or arr.max() >= num_classes:
        raise InvalidInputError(
            f"classes must be class indices in 0..{num_classes - 1}; "
            f"got values in [{arr.min()}, {arr.max()}]"
        )
    return arr.astype(np.int32)


def _check_method(method: str) -> SaliencyMethod:
    if not isinstance(method, str) or method not in _REGISTRY:
        raise InvalidInputError(
            f"unknown saliency method {method!r}; choose one of {', '.join(_REGISTRY)}"
        )
    return _REGISTRY[method]


def _class_score(model: keras.Model, score: str, layer: str | None = None):
    """``f(x, classes) -> (scores (N,), features of layer or None)``, differentiable."""
    if score not in SCORES:
        raise InvalidInputError(f"score must be one of {', '.join(SCORES)}; got {score!r}")
    last = model.layers[-1]
    outputs = [model.get_layer(layer).output] if layer is not None else []
    if score == "probability":
        probe = keras.Model(model.inputs, [*outputs, model.outputs[0]])

        def probability(x, classes):
            *features, out = _as_list(probe(x, training=False))
            return class_probability(out, classes), (features[0] if features else None)

        return probability
    squashing = (keras.activations.sigmoid, keras.activations.softmax)
    if not isinstance(last, keras.layers.Dense) or last.activation not in squashing:
        raise InvalidInputError(
            f"score='logit' needs a model whose last layer is a Dense layer with a sigmoid or "
            f"softmax activation; {model.name!r} ends with {type(last).__name__} "
            f"{last.name!r}; pass score='probability' to explain its output instead"
        )
    probe = keras.Model(model.inputs, [*outputs, last.input])

    def logit(x, classes):
        *features, hidden = _as_list(probe(x, training=False))
        z = tf.matmul(hidden, last.kernel) + (last.bias if last.use_bias else 0.0)
        picked = tf.gather(z, tf.cast(classes, tf.int32), axis=1, batch_dims=1)
        return picked, (features[0] if features else None)

    return logit


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# Compiled functions per classifier: building a new tf.function on every call
# retraces each time (and TensorFlow warns about it, which fails a -W docs build).
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


drop_retracing_hint()


def _compiled(model: keras.Model, key: tuple, make):
    per_model = _COMPILED.setdefault(model, {})
    if key not in per_model:
        per_model[key] = make()
    return per_model[key]


class _Gradients:
    """Gradients of the class score, compiled once per classifier and score."""

    def __init__(self, model: keras.Model, score: str):
        def make():
            f = _class_score(model, score)

            @tf.function(reduce_retracing=True)
            def input_gradients(x, classes):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    value, _ = f(x, classes)
                return tape.gradient(value, x)

            return input_gradients

        self.input_gradients = _compiled(model, ("gradients", score), make)

    def of_inputs(self, x: np.ndarray, classes: np.ndarray, batch_size: int) -> np.ndarray:
        out = np.empty_like(x)
        for start in range(0, len(x), batch_size):
            stop = start + batch_size
            out[start:stop] = self.input_gradients(
                tf.constant(x[start:stop]), tf.constant(classes[start:stop])
            ).numpy()
        return out


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive int; got {value!r}")
    return value


def _gradient(model: keras.Model, x, classes, *, score, batch_size) -> np.ndarray:
    return _Gradients(model, score).of_inputs(x, classes, batch_size).sum(axis=-1)


def _smoothgrad(model, x, classes, *, score, batch_size, samples, noise, seed) -> np.ndarray:
    # Smilkov et al. (2017): noise scaled to each image's own range.
    _positive_int("samples", samples)
    grads = _Gradients(model, score)
    rng = np.random.default_rng(seed)
    spread = (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))[:, None, None, None] * float(noise)
    total = np.zeros(x.shape, np.float32)
    for _sample in range(samples):
        noisy = x + rng.standard_normal(x.shape, dtype=np.float32) * spread
        total += grads.of_inputs(noisy.astype(np.float32), classes, batch_size)
    return (total / samples).sum(axis=-1)


def _integrated(model, x, classes, *, score, batch_size, steps, baseline) -> np.ndarray:
    # Midpoint rule on the straight path from the baseline (Sundararajan et al., 2017):
    # the attributions sum to the score's change, f(x) - f(baseline), up to the
    # quadrature error.
    _positive_int("steps", steps)
    grads = _Gradients(model, score)
    base = np.asarray(baseline, np.float32)
    if base.ndim == 2 and base.shape == x.shape[1:3]:
        base = base[..., None]  # one (H, W) image for all
    try:
        base = np.broadcast_to(base, x.shape)
    except ValueError:
        raise InvalidInputError(
            f"baseline must be a number, one image {x.shape[1:]} or {x.shape[1:3]}, or one per "
            f"image {x.shape}; got shape {base.shape}"
        ) from None
    total = np.zeros(x.shape, np.float32)
    for k in range(steps):
        point = base + (k + 0.5) / steps * (x - base)
        total += grads.of_inputs(point.astype(np.float32), classes, batch_size)
    return ((x - base) * total / steps).sum(axis=-1)


def _gradcam(model: keras.Model, x, classes, *, score, batch_size, layer) -> np.ndarray:
    names = spatial_layers(model)
    if layer is None or layer not in [lyr.name for lyr in model.layers]:
        raise InvalidInputError(
            f"Grad-CAM needs layer=, the name of a layer with a feature-map output; "
            f"got {layer!r}; layers of {model.name!r} with one: {', '.join(names) or 'none'}"
        )
    if layer not in names:
        shape = tuple(model.get_layer(layer).output.shape)
        raise InvalidInputError(
            f"Grad-CAM needs a spatial layer (output (N, h, w, c)); {layer!r} outputs {shape}; "
            f"layers of {model.name!r} with a feature map: {', '.join(names) or 'none'}"
        )

    def make():
        f = _class_score(model, score, layer)

        @tf.function(reduce_retracing=True)
        def cam(images, cls):
            with tf.GradientTape() as tape:
                value, features = f(images, cls)
            weights = tf.reduce_mean(tape.gradient(value, features), axis=(1, 2), keepdims=True)
            heat = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1, keepdims=True))
            return tf.image.resize(heat, tf.shape(images)[1:3], method="bilinear")[..., 0]

        return cam

    cam = _compiled(model, ("gradcam", layer, score), make)

    out = np.empty(x.shape[:3], np.float32)
    for start in range(0, len(x), batch_size):
        stop = start + batch_size
        out[start:stop] = cam(tf.constant(x[start:stop]), tf.constant(classes[start:stop])).numpy()
    return out


# The built-in methods, in the order of METHODS.
for _builtin in (
    SaliencyMethod("gradient", _gradient, "Gradient", "magnitude"),
    SaliencyMethod(
        "smoothgrad",
        _smoothgrad,
        "SmoothGrad",
        "magnitude",
        {"samples": 25, "noise": 0.15, "seed": 0},
    ),
    SaliencyMethod(
        "integrated_gradients",
        _integrated,
        "Integrated Gradients",
        "value",
        {"steps": 32, "baseline": 0.0},
    ),
    SaliencyMethod("gradcam", _gradcam, "Grad-CAM", "value", {"layer": None}),
):
    _register_built_in(_builtin)
del _builtin


def _parameters() -> set[str]:
    return {name for method in _REGISTRY.values() for name in method.defaults}


def saliency_maps(
    classifier,
    images,
    method: str,
    *,
    classes=None,
    score: str = "logit",
    batch_size: int = 256,
    **params,
) -> np.ndarray:
    """Saliency maps of ``classifier`` for one class per image.

    Parameters
    ----------
    classifier : keras.Model or TrainedClassifier
        Maps float32 ``(N, H, W, C)`` images in [0, 1] to ``(N, K)`` class scores.
    images : ndarray
        uint8 ``(N, H, W)`` or float ``(N, H, W, C)`` in [0, 1].
    method : str
        A name in :data:`~cladec.saliency.registry.REGISTRY`; the built-in
        ones, :data:`METHODS`:
        ``gradient``: the gradient of the class score (Simonyan et al.,
        2014), summed over channels, signed. ``smoothgrad``: its mean over
        ``samples`` noisy copies, noise ``noise`` times each image's range
        (Smilkov et al., 2017), signed. ``integrated_gradients``: the input
        minus ``baseline`` times the mean gradient on the path between them
        (``steps`` midpoints; Sundararajan et al., 2017); the maps sum to the
        score's change from the baseline to the image. ``gradcam``: the
        feature maps of ``layer``
        weighted by their mean gradient, rectified and resized to the image
        (Selvaraju et al., 2017); non-negative.
    classes : None, int or int ndarray ``(N,)``
        The class each map explains. Default: the classifier's prediction.
    score : {"logit", "probability"}
        The explained class score: the output layer's pre-activation (needs a
        final Dense layer with a sigmoid or softmax) or the normalised output.
    batch_size : int
        Images per gradient call.
    **params
        The method's parameters, each with a default (its
        :attr:`~cladec.saliency.registry.SaliencyMethod.defaults`); a keyword only other registered
        methods take is ignored. The built-in methods': ``layer``, Grad-CAM's
        layer (a feature map, e.g. ``"my_conv"``; required); ``samples`` and
        ``noise``, SmoothGrad's sample count and noise level (25 and 0.15);
        ``seed``, which seeds SmoothGrad's noise (0); ``steps``, Integrated
        Gradients' path steps (32); ``baseline``, its baseline image, a number,
        one image or one per image (0.0: black).

    Returns
    -------
    ndarray
        float32 ``(N, H, W)``.

    Raises
    ------
    ValueError
        For an unknown method or score, images of the wrong shape or outside
        [0, 1], classes out of range, a Grad-CAM layer that is missing or not
        spatial, ``score="logit"`` on a model without a logit, or a method
        whose maps do not have the images' shape.
    TypeError
        For a keyword no registered method takes.
    """
    from .._layer_explainer import as_model

    model = as_model(classifier)
    entry = _check_method(method)
    unknown = sorted(set(params) - _parameters())
    if unknown:
        raise TypeError(
            f"saliency_maps() got unknown parameter(s) {', '.join(unknown)}; the registered "
            f"methods take {', '.join(sorted(_parameters()))}"
        )
    x = as_images(images, image_shape_of(model), name="images")
    num_classes = int(model.output_shape[-1])

    def predicted():
        from ..training import predict_batched

        return predict_batched(model, x, batch_size).argmax(axis=1).astype(np.int32)

    cls = _check_classes(classes, len(x), num_classes, predicted)
    settings = {**entry.defaults, **{k: v for k, v in params.items() if k in entry.defaults}}
    maps = np.asarray(entry.compute(model, x, cls, score=score, batch_size=batch_size, **settings))
    if maps.shape != x.shape[:3]:
        raise InvalidInputError(
            f"saliency method {entry.name!r} returned maps of shape {maps.shape}; it must "
            f"return one map per image, shape {x.shape[:3]}"
        )
    return maps.astype(np.float32, copy=False)


def all_saliency_maps(
    classifier, images, *, methods: Sequence[str] = METHODS, layer: str = "my_conv", **kwargs
) -> dict[str, np.ndarray]:
    """``{method: saliency_maps(classifier, images, method, ...)}`` for several methods.

    Parameters
    ----------
    classifier, images
        As for :func:`saliency_maps`.
    methods : sequence of str
        Names in :data:`~cladec.saliency.registry.REGISTRY` (default: the
        built-in :data:`METHODS`).
    layer : str
        Grad-CAM's layer.
    **kwargs
        Passed to :func:`saliency_maps`.

    Returns
    -------
    dict
        float32 ``(N, H, W)`` maps by method name, in the order of ``methods``.
    """
    for m in methods:  # every name before the first map
        _check_method(m)
    return {m: saliency_maps(classifier, images, m, layer=layer, **kwargs) for m in methods}

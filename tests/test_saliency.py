"""Saliency maps on models with known answers, and agreement with Google PAIR's ``saliency``."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cladec.saliency.methods import METHODS, class_probability, saliency_maps, spatial_layers

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

RNG = np.random.default_rng(0)


def _two_class(logit_of) -> keras.Model:
    """A model whose class 0 probability is ``logit_of(x)`` exactly: outputs ``[y, 1 - y]``."""
    inputs = keras.Input((4, 4, 1))
    y = logit_of(inputs)
    outputs = keras.layers.Concatenate()([y, keras.layers.Lambda(lambda t: 1.0 - t)(y)])
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def linear():
    """p_0(x) = w . x + 0.3, so every gradient is w and the attributions are w * x."""
    weights = RNG.normal(0, 0.01, size=(16, 1)).astype(np.float32)
    layer = keras.layers.Dense(1)
    model = _two_class(lambda x: layer(keras.layers.Flatten()(x)))
    layer.set_weights([weights, np.array([0.3], np.float32)])
    return model, weights.reshape(4, 4)


@pytest.fixture(scope="module")
def images():
    return RNG.random((5, 4, 4, 1)).astype(np.float32)


def test_the_gradient_of_a_linear_model_is_its_weight_vector(linear, images):
    model, w = linear
    maps = saliency_maps(model, images, "gradient", classes=0, score="probability")
    assert maps.shape == (5, 4, 4) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, np.broadcast_to(w, maps.shape), atol=1e-6)
    np.testing.assert_allclose(
        saliency_maps(model, images, "gradient", classes=1, score="probability"), -maps, atol=1e-6
    )


def test_smoothgrad_of_a_linear_model_is_its_weight_vector_whatever_the_noise(linear, images):
    model, w = linear
    maps = saliency_maps(
        model, images, "smoothgrad", classes=0, samples=7, noise=0.5, score="probability"
    )
    np.testing.assert_allclose(maps, np.broadcast_to(w, maps.shape), atol=1e-6)


def test_integrated_gradients_of_a_linear_model_are_weight_times_input(linear, images):
    model, w = linear
    maps = saliency_maps(
        model, images, "integrated_gradients", classes=0, steps=3, score="probability"
    )
    np.testing.assert_allclose(maps, w * images[..., 0], atol=1e-6)


def test_integrated_gradients_sum_to_the_change_in_probability():
    # Completeness on a non-linear (random, softmax) conv net: the attributions
    # sum to p(x) - p(baseline) up to the path integral's quadrature error.
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    x = RNG.random((6, 8, 8, 1)).astype(np.float32)
    classes = model.predict(x, verbose=0).argmax(axis=1)
    maps = saliency_maps(model, x, "integrated_gradients", steps=64, score="probability")
    change = class_probability(model(x), classes) - class_probability(model(0 * x), classes)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), change.numpy(), atol=1e-3)
    # The default score is the logit, the softmax's input.
    logits = keras.Model(model.inputs, model.layers[-1].input)(x) @ model.layers[-1].kernel
    logits0 = keras.Model(model.inputs, model.layers[-1].input)(0 * x) @ model.layers[-1].kernel
    picked = np.take_along_axis((logits - logits0).numpy(), classes[:, None], axis=1)[:, 0]
    maps = saliency_maps(model, x, "integrated_gradients", steps=64)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), picked, atol=1e-3)


def test_gradcam_weights_the_feature_map_by_its_mean_gradient_and_rectifies():
    # p_0 = mean of the feature map A = x: every gradient is 1/16, so the map is
    # x / 16 for class 0 and relu(-x / 16) = 0 for class 1.
    identity = keras.layers.Conv2D(1, 1, use_bias=False, name="features")
    pool = keras.layers.GlobalAveragePooling2D()
    model = _two_class(lambda x: pool(identity(x)))
    identity.set_weights([np.ones((1, 1, 1, 1), np.float32)])
    x = RNG.random((3, 4, 4, 1)).astype(np.float32)
    np.testing.assert_allclose(
        saliency_maps(model, x, "gradcam", layer="features", classes=0, score="probability"),
        x[..., 0] / 16,
        atol=1e-6,
    )
    cam = saliency_maps(model, x, "gradcam", layer="features", classes=1, score="probability")
    assert np.all(cam == 0)
    with pytest.raises(
        ValueError, match="last layer is a Dense.*ends with Concatenate.*probability"
    ):
        saliency_maps(model, x, "gradcam", layer="features")


def test_errors_name_what_was_wrong_and_what_is_accepted(perfect_classifier, mnist_small):
    digits = mnist_small.x_test[:4]
    with pytest.raises(ValueError, match="spatial layer.*'my_dense' outputs.*conv1"):
        saliency_maps(perfect_classifier, digits, "gradcam", layer="my_dense")
    with pytest.raises(ValueError, match="needs layer=.*got 'nope'"):
        saliency_maps(perfect_classifier, digits, "gradcam", layer="nope")
    with pytest.raises(ValueError, match=r"class indices in 0\.\.9; got values in \[0, 12\]"):
        saliency_maps(perfect_classifier, digits, "gradient", classes=np.array([0, 1, 2, 12]))
    with pytest.raises(ValueError, match=r"int \(4,\) class indices"):
        saliency_maps(perfect_classifier, digits, "gradient", classes=np.zeros(3, int))
    with pytest.raises(ValueError, match=r"images must be images of shape .*got shape \(4, 28\)"):
        saliency_maps(perfect_classifier, digits[:, 0], "gradient")
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*divide uint8 pixels by 255"):
        saliency_maps(perfect_classifier, digits.astype(np.float32), "gradient")
    with pytest.raises(ValueError, match="unknown saliency method 'lime'; choose one of gradient"):
        saliency_maps(perfect_classifier, digits, "lime")
    with pytest.raises(ValueError, match="score must be one of logit, probability; got 'loss'"):
        saliency_maps(perfect_classifier, digits, "gradient", score="loss")
    with pytest.raises(ValueError, match="samples must be a positive int"):
        saliency_maps(perfect_classifier, digits, "smoothgrad", samples=0)


def test_spatial_layers_lists_the_feature_maps(perfect_classifier):
    assert spatial_layers(perfect_classifier) == [
        "conv1",
        "bn1",
        "pool1",
        "conv2",
        "bn2",
        "my_conv",
    ]


def test_the_maps_agree_with_google_pair_saliency(perfect_classifier, mnist_small):
    # An independent implementation of the same methods, one image per call.
    import saliency.core as core  # the test extra's declared dependency: missing is a failure
    import tensorflow as tf

    x = mnist_small.x_test[:4, ..., None].astype(np.float32) / 255
    classes = perfect_classifier.predict(x, verbose=0).argmax(axis=1)
    scores = perfect_classifier.get_layer("scores")
    probe = keras.Model(
        perfect_classifier.inputs,
        [perfect_classifier.get_layer("my_conv").output, scores.input],
    )

    def call(batch, call_model_args=None, expected_keys=None):
        batch = tf.constant(np.asarray(batch, np.float32))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(batch)
            features, hidden = probe(batch, training=False)
            logit = (tf.matmul(hidden, scores.kernel) + scores.bias)[:, call_model_args["class"]]
        if core.CONVOLUTION_LAYER_VALUES in expected_keys:
            return {
                core.CONVOLUTION_LAYER_VALUES: features.numpy(),
                core.CONVOLUTION_OUTPUT_GRADIENTS: tape.gradient(logit, features).numpy(),
            }
        return {core.INPUT_OUTPUT_GRADIENTS: tape.gradient(logit, batch).numpy()}

    def pair(method, image, cls):
        args = {"class": int(cls)}
        if method == "gradient":
            return core.GradientSaliency().GetMask(image, call, args)[..., 0]
        if method == "integrated_gradients":
            baseline = np.zeros_like(image)
            mask = core.IntegratedGradients().GetMask(image, call, args, baseline, x_steps=200)
            return mask[..., 0]
        # PAIR upsamples with scikit-image; compare the 7x7 maps upsampled as ours are.
        cam = core.GradCam().GetMask(image, call, args, should_resize=False, three_dims=False)
        return tf.image.resize(cam[..., None], image.shape[:2], method="bilinear").numpy()[..., 0]

    for method in ("gradient", "integrated_gradients", "gradcam"):
        ours = saliency_maps(perfect_classifier, x, method, layer="my_conv", steps=200)
        theirs = np.stack([pair(method, img, c) for img, c in zip(x, classes)])
        # Not equal to the last digit: where max pooling sees ties (zeros after
        # a ReLU), which input receives the gradient depends on the batch's kernel.
        for a, b in zip(ours, theirs):
            r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
            assert r > 0.99, f"{method}: correlation with PAIR's map {r:.4f}"


def test_every_method_gives_one_finite_map_per_image(perfect_classifier, mnist_small):
    digits = mnist_small.x_test[:3]
    for method in METHODS:
        maps = saliency_maps(
            perfect_classifier, digits, method, layer="my_conv", samples=3, steps=4
        )
        assert maps.shape == (3, 28, 28) and maps.dtype == np.float32
        assert np.all(np.isfinite(maps)) and np.any(maps != 0), method

"""Tests of cladec.metrics: eq. 1 losses and fidelity with known answers, evaluation accuracy."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from _fakes import FakeExplainer, constant_classifier

from cladec import metrics
from cladec.losses import classification_loss
from cladec.store import ModelStore


def images(n=16, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")


# ---------------------------------------------------------------------------
# Metrics with known answers (real data where a trained classifier is needed)
# ---------------------------------------------------------------------------


def test_perfect_reconstruction_has_zero_loss_full_agreement(diff_classifier, mnist_small):
    from cladec.training import evaluate_classifier

    x = mnist_small.x_test[..., None].astype("float32") / 255
    y = mnist_small.y_test
    terms = metrics.loss_terms(x, mnist_small.x_test, y, diff_classifier, alpha=0.5)
    assert terms["reconstruction_loss"] == 0.0
    assert terms["total_loss"] == pytest.approx(0.5 * terms["classification_loss"])
    loss, accuracy = evaluate_classifier(diff_classifier, x, y)
    assert terms["classification_loss"] == pytest.approx(loss, rel=1e-5)

    fid = metrics.fidelity(diff_classifier, mnist_small.x_test, x, y)
    assert fid["agreement"] == 1.0
    assert fid["accuracy_on_reconstructions"] == pytest.approx(accuracy)
    assert fid["accuracy_on_originals"] == pytest.approx(accuracy)
    assert fid["n_images"] == 300
    assert accuracy > 0.4  # the fixture really learnt something (chance: 0.1)


def test_fidelity_without_labels_and_with_disagreement(diff_classifier, mnist_small):
    x = mnist_small.x_test
    blank = np.zeros((len(x), 28, 28, 1), "float32")
    fid = metrics.fidelity(diff_classifier, x, blank)
    assert fid["accuracy_on_reconstructions"] is None and fid["accuracy_on_originals"] is None
    pred = metrics.predict_labels(diff_classifier, x)
    expected = np.mean(pred == metrics.predict_labels(diff_classifier, blank))
    assert fid["agreement"] == pytest.approx(expected)
    assert fid["agreement"] < 0.5


def test_sse_is_784_times_mse():
    clf = constant_classifier()
    x, x_hat = images(8, 1), images(8, 2)
    y = np.arange(8) % 10
    sse = metrics.loss_terms(x_hat, x, y, clf, 0.0, loss_scale="sse")["reconstruction_loss"]
    mse = metrics.loss_terms(x_hat, x, y, clf, 0.0, loss_scale="mse")["reconstruction_loss"]
    assert sse == pytest.approx(784 * mse, rel=1e-5)
    by_hand = np.mean(np.sum((x.astype("float64") - x_hat) ** 2, axis=(1, 2, 3)))
    assert sse == pytest.approx(by_hand, rel=1e-5)


def test_total_loss_is_eq1_on_hand_computed_values():
    # Black originals, grey (0.5) reconstructions: SSE = 784 * 0.25 = 196 per image.
    # The uniform classifier: cross-entropy ln(10) for every image.
    clf = constant_classifier()
    x = np.zeros((5, 28, 28), np.uint8)
    x_hat = np.full((5, 28, 28, 1), 0.5, "float32")
    terms = metrics.loss_terms(x_hat, x, [0, 1, 2, 3, 4], clf, alpha=0.25)
    assert terms["reconstruction_loss"] == pytest.approx(196.0)
    assert terms["classification_loss"] == pytest.approx(math.log(10), rel=1e-6)
    assert terms["total_loss"] == pytest.approx(0.75 * 196.0 + 0.25 * math.log(10))
    assert terms["alpha"] == 0.25 and terms["loss_scale"] == "sse" and terms["n_images"] == 5
    at_one = metrics.loss_terms(x_hat, x, [0, 1, 2, 3, 4], clf, alpha=1.0)
    assert at_one["total_loss"] == pytest.approx(math.log(10), rel=1e-6)


def test_classification_loss_of_a_known_probability_vector():
    onehot = np.array([[0, 1, 0]], "float32")
    assert float(classification_loss(onehot, np.array([[0.2, 0.5, 0.3]]))) == pytest.approx(
        -math.log(0.5), rel=1e-6
    )
    # Sigmoid outputs are normalised by their sum, as Keras does: 1.0 / 2.0 -> 0.5.
    assert float(classification_loss(onehot, np.array([[0.4, 1.0, 0.6]]))) == pytest.approx(
        -math.log(0.5), rel=1e-6
    )


def test_refae_convention_total_equals_reconstruction():
    clf = constant_classifier()
    x, x_hat = images(4, 3), images(4, 4)
    terms = metrics.loss_terms(x_hat, x, [1, 2, 3, 4], clf)  # no alpha: a RefAE
    assert terms["alpha"] is None
    assert terms["total_loss"] == terms["reconstruction_loss"]
    assert terms["classification_loss"] == pytest.approx(math.log(10), rel=1e-6)


def test_loss_terms_takes_defaults_from_an_explainer():
    clf = constant_classifier()
    x = images(6, 5)
    explainer = FakeExplainer(clf, lambda im: np.clip(im + 0.1, 0, 1), alpha=0.5, loss_scale="mse")
    terms = metrics.loss_terms(explainer, x, np.zeros(6, int))
    x_hat = np.clip(x + 0.1, 0, 1)
    assert terms["alpha"] == 0.5 and terms["loss_scale"] == "mse"
    assert terms["reconstruction_loss"] == pytest.approx(np.mean((x - x_hat) ** 2), rel=1e-5)
    assert terms["total_loss"] == pytest.approx(
        0.5 * terms["reconstruction_loss"] + 0.5 * math.log(10), rel=1e-5
    )


def test_loss_terms_refuses_bad_inputs():
    clf = constant_classifier()
    with pytest.raises(ValueError, match="classifier"):
        metrics.loss_terms(images(2), images(2), [0, 1])
    with pytest.raises(ValueError, match="shape"):
        metrics.loss_terms(images(3), images(2), [0, 1], clf)
    with pytest.raises(ValueError, match="alpha"):
        metrics.loss_terms(images(2), images(2), [0, 1], clf, alpha=50)
    with pytest.raises(ValueError, match="loss scale"):
        metrics.loss_terms(images(2), images(2), [0, 1], clf, loss_scale="l1")


# ---------------------------------------------------------------------------
# Evaluation accuracy (real data, model store)
# ---------------------------------------------------------------------------


def test_evaluation_accuracy_on_real_images_and_cache_hit(mnist_small, tmp_path):
    store = ModelStore(tmp_path / "models")
    kwargs = dict(
        architecture="perfect",
        epochs=2,
        batch_size=32,
        seed=0,
        cache=store,
        recalibrate_batchnorm=True,
        verbose=0,
    )
    d = mnist_small
    start = time.perf_counter()
    first = metrics.evaluation_accuracy(d.x_train, d.y_train, d.x_test, d.y_test, **kwargs)
    first_seconds = time.perf_counter() - start
    assert first["from_cache"] is False
    assert first["accuracy"] > 0.5, first  # chance is 0.1
    assert first["n_train"] == 1000 and first["n_test"] == 300 and first["epochs"] == 2

    start = time.perf_counter()
    second = metrics.evaluation_accuracy(d.x_train, d.y_train, d.x_test, d.y_test, **kwargs)
    second_seconds = time.perf_counter() - start
    assert second["from_cache"] is True
    assert second["accuracy"] == first["accuracy"] and second["loss"] == first["loss"]
    assert second["key"] == first["key"]
    assert second_seconds < first_seconds
    entries = store.entries()
    assert [e.kind for e in entries] == ["eval_classifier"]
    assert entries[0].meta["fields"]["epochs"] == 2
    # named by data_id, reconstructions whose last bits differ (another CPU) find the same model
    named = metrics.evaluation_accuracy(
        d.x_train, d.y_train, d.x_test, d.y_test, data_id="made by explainer k", **kwargs
    )
    assert named["from_cache"] is False and named["key"] != first["key"]
    x_hat = d.x_train[..., None] / np.float32(255)
    nudged = np.nextafter(x_hat, np.float32(0.5)).astype(np.float32)
    again = metrics.evaluation_accuracy(
        nudged, d.y_train, d.x_test, d.y_test, data_id="made by explainer k", **kwargs
    )
    assert again["from_cache"] is True and again["key"] == named["key"]
    # given as a function, the training reconstructions are only made when a model trains
    calls = []

    def reconstructions():
        calls.append(1)
        return d.x_train

    lazy = metrics.evaluation_accuracy(
        reconstructions, d.y_train, d.x_test, d.y_test, data_id="made by explainer k", **kwargs
    )
    assert lazy["from_cache"] is True and lazy["key"] == named["key"] and not calls
    assert lazy["n_train"] == 1000
    fresh = metrics.evaluation_accuracy(
        reconstructions, d.y_train, d.x_test, d.y_test, data_id="other explainer", **kwargs
    )
    assert fresh["from_cache"] is False and calls == [1] and fresh["n_train"] == 1000


def test_evaluation_accuracy_refuses_mismatched_labels(mnist_small):
    d = mnist_small
    with pytest.raises(ValueError, match="needs data_id"):
        metrics.evaluation_accuracy(
            lambda: d.x_train, d.y_train, d.x_test, d.y_test, epochs=1, cache=False, verbose=0
        )
    with pytest.raises(ValueError, match="returned 10 reconstructions for 1000 labels"):
        metrics.evaluation_accuracy(
            lambda: d.x_train[:10], d.y_train, d.x_test, d.y_test, epochs=1, cache=False,
            data_id="x", verbose=0,
        )  # fmt: skip
    with pytest.raises(ValueError, match="y_train"):
        metrics.evaluation_accuracy(
            d.x_train, d.y_train[:10], d.x_test, d.y_test, epochs=1, cache=False, verbose=0
        )
    with pytest.raises(ValueError, match="architecture|kind"):
        metrics.evaluation_accuracy(
            d.x_train,
            d.y_train,
            d.x_test,
            d.y_test,
            architecture="vgg",
            epochs=1,
            cache=False,
            verbose=0,
        )


def _brightness_classifier():
    """A fixed classifier that reads an image's mean brightness: dark -> class 0, bright -> 1."""
    import keras

    inputs = keras.Input((28, 28, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(2, activation="softmax")(mean)
    model = keras.Model(inputs, logits)
    model.layers[-1].set_weights(
        [np.array([[-100.0, 100.0]], "float32"), np.array([50.0, -50.0], "float32")]
    )
    return model


def test_misread_readings_count_both_ways():
    clf = _brightness_classifier()
    dark, bright = np.zeros((28, 28, 1), "float32"), np.ones((28, 28, 1), "float32")
    x = np.stack([dark, dark, bright, bright, bright])  # read as 0, 0, 1, 1, 1
    y = np.array([0, 1, 0, 0, 1])  # images 1, 2, 3 are misread
    # reconstructions: image 1 -> bright (now read as its true 1), 2 -> dark (true 0), 3 -> bright (still 1)
    x_hat = np.stack([dark, bright, dark, bright, bright])
    read = metrics.misread_readings(clf, x, x_hat, y)
    assert read["n_misread"] == 3
    assert read["as_true"] == pytest.approx(2 / 3) and read["as_predicted"] == pytest.approx(1 / 3)
    assert read["as_other"] == 0.0 and set(read) == {
        "n_misread",
        "as_predicted",
        "as_true",
        "as_other",
    }
    none_wrong = metrics.misread_readings(clf, x[:1], x_hat[:1], y[:1])
    assert none_wrong["n_misread"] == 0 and math.isnan(none_wrong["as_true"])


def test_texture_is_high_for_stripes_and_zero_for_flat_images():
    stripes = np.zeros((2, 28, 28), np.uint8)
    stripes[:, :, ::2] = 255
    assert metrics.texture(stripes) == pytest.approx(1.0)
    assert metrics.texture(np.full((2, 28, 28, 1), 0.5, "float32")) == 0.0
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        metrics.texture(np.full((1, 28, 28, 1), 2.0, "float32"))

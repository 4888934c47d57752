"""A classifier of the user's own: trained once and stored, and the checklist of what ClaDec needs.

Real MNIST digits (1000 training, 300 test), a small CNN
trained three epochs, each test in a fresh store.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import cladec
from cladec.store import ModelStore
from cladec.store.keys import architecture_digest


def small_cnn(activation="relu", head="softmax") -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, activation=activation, name="conv")(inputs)
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(16, activation=activation, name="features")(x)
    return keras.Model(inputs, layers.Dense(10, activation=head, name="scores")(x))


def tanh_cnn() -> keras.Model:
    return small_cnn(activation="tanh")


def test_own_classifier_trains_once_and_is_stored_by_its_architecture(mnist_small, tmp_path):
    store = ModelStore(tmp_path / "models")
    kwargs = dict(profile="quick", epochs=3, cache=store, verbose=0)
    first = cladec.obtain_classifier(small_cnn, mnist_small, **kwargs)
    assert first.record.source == "trained"
    assert first.record.fields["architecture"] == "custom:small_cnn"
    assert first.test_accuracy > 0.5, first.describe()  # chance is 0.1
    again = cladec.obtain_classifier(small_cnn, mnist_small, **kwargs)
    assert again.record.source == "cache" and again.record.key == first.record.key
    assert np.allclose(
        again.model.predict(mnist_small.x_test[:8, ..., None] / 255.0, verbose=0),
        first.model.predict(mnist_small.x_test[:8, ..., None] / 255.0, verbose=0),
    )
    # another activation: the same weight shapes, another model
    other = cladec.obtain_classifier(tanh_cnn, mnist_small, **kwargs)
    assert other.record.source == "trained" and other.record.key != first.record.key
    assert architecture_digest(small_cnn()) == architecture_digest(small_cnn())
    assert architecture_digest(small_cnn()) != architecture_digest(tanh_cnn())


def test_own_classifier_builders_that_cannot_work_are_refused(mnist_small):
    def not_a_model():
        return "a model"

    def two_dimensional_input():
        inputs = keras.Input((784,))
        return keras.Model(inputs, layers.Dense(10, activation="softmax")(inputs))

    with pytest.raises(ValueError, match="returned str; it must return an untrained keras.Model"):
        cladec.obtain_classifier(not_a_model, mnist_small, profile="quick", cache=False)
    with pytest.raises(ValueError, match=r"accepted: one image input \(N, H, W, C\)"):
        cladec.obtain_classifier(two_dimensional_input, mnist_small, profile="quick", cache=False)


def test_checklist_passes_a_good_model_and_names_each_mistake(mnist_small):
    good = small_cnn()
    x = mnist_small.x_test[:64, ..., None] / np.float32(255)
    checked = cladec.check_classifier(good, x, layer="features")
    assert checked.ok, checked.report()
    assert "a code of 16 values" in checked.report() and "Dense -> Reshape" in checked.report()

    logits = cladec.check_classifier(small_cnn(head=None), x, layer="features")
    assert not logits.ok and "[FAIL] class scores are probabilities" in logits.report()
    assert "activation linear" in logits.report()

    raw = cladec.check_classifier(good, mnist_small.x_test[:64, ..., None], layer="feature")
    report = raw.report()
    assert "[FAIL] images are float in [0, 1]: uint8 images in [0, 255]" in report
    assert "'feature' is not one of: conv, pool, flat, features" in report

    unchecked = cladec.check_classifier(good)
    assert unchecked.ok  # nothing fails; what needs images is marked "?"
    assert "[?   ] images are float in [0, 1]: no sample images given" in unchecked.report()
    assert "candidates: conv, pool, flat, features" in str(unchecked)

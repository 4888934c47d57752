"""Compiled, remembered inference passes (``cladec._forward`` behind ``predict_batched``)."""

from __future__ import annotations

import gc

import keras
import numpy as np
import pytest

from cladec import _forward
from cladec.training import predict_batched


def _model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


@pytest.fixture
def images(mnist_small):
    return mnist_small.x_train[:700, ..., None].astype(np.float32) / 255


@pytest.fixture
def passes(monkeypatch):
    """Counts the batches that really run through a model."""
    calls = []
    compiled = _forward._inference_function

    def counting(model):
        function = compiled(model)

        def run(batch):
            calls.append(len(batch))
            return function(batch)

        return run

    monkeypatch.setattr(_forward, "_inference_function", counting)
    _forward.forget()
    yield calls
    _forward.forget()


def test_outputs_equal_the_eager_inference_call(images, passes):
    model = _model()
    eager = np.concatenate(
        [np.asarray(model(images[i : i + 256], training=False)) for i in (0, 256, 512)]
    )
    np.testing.assert_allclose(predict_batched(model, images, 256), eager, rtol=1e-5, atol=1e-6)
    assert passes == [256, 256, 188]  # the last, partial batch too


def test_the_same_images_are_answered_without_a_pass(images, passes):
    model = _model()
    first = predict_batched(model, images)
    second = predict_batched(model, images)
    assert len(passes) == 2  # 512 + 188 once
    np.testing.assert_array_equal(first, second)
    first[:] = -1  # the caller owns what it gets: the remembered copy is untouched
    np.testing.assert_array_equal(predict_batched(model, images), second)


def test_other_images_other_batch_size_or_new_weights_run_again(images, passes):
    model = _model()
    before = predict_batched(model, images)
    predict_batched(model, images[:100])
    predict_batched(model, images, 350)
    assert passes == [512, 188, 100, 350, 350]
    weights = model.get_weights()
    weights[-1] = weights[-1] + np.arange(10, dtype=np.float32)  # as if it had trained
    model.set_weights(weights)
    after = predict_batched(model, images)
    assert len(passes) == 7 and not np.allclose(after, before)
    assert not np.allclose(predict_batched(_model(seed=1), images), before)  # another model


def test_memory_stays_within_the_budget(images, passes, monkeypatch):
    model = _model()
    one = predict_batched(model, images).nbytes
    monkeypatch.setattr(_forward, "MEMO_BYTES", 2 * one)
    for n in (700, 600, 500, 400):
        predict_batched(model, images[:n])
    assert sum(v.nbytes for v in _forward._memo.values()) <= 2 * one
    monkeypatch.setattr(_forward, "MEMO_ENTRY_BYTES", one - 1)
    _forward.forget()
    predict_batched(model, images)
    assert not _forward._memo  # too large to keep


def test_a_collected_model_known_only_as_itself_leaves_nothing_behind(images, passes):
    # Its id may be reused by a new model, which must not be served its outputs.
    model = ScaledDense(1.0)
    predict_batched(model, images)
    assert _forward._memo
    del model
    gc.collect()
    assert not _forward._memo


def test_the_same_model_loaded_twice_shares_its_passes(images, passes):
    # Each tutorial loads its own copy of a shipped model: same config, same weights.
    first, second = _model(), _model()
    assert first is not second and first.name != second.name  # Keras numbers its names
    before = predict_batched(first, images)
    np.testing.assert_array_equal(predict_batched(second, images), before)
    assert len(passes) == 2  # one pass of 512 + 188, for both
    del first
    gc.collect()
    np.testing.assert_array_equal(predict_batched(second, images), before)
    assert len(passes) == 2  # what a collected copy computed still serves the other


class ScaledDense(keras.Model):
    """A model whose call is Python code: its config cannot tell two of them apart."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor
        self.dense = keras.layers.Dense(10)

    def call(self, x):
        return self.dense(keras.ops.reshape(x, (-1, 784))) * self.factor


def test_a_model_without_a_config_is_known_only_as_itself(images, passes):
    one, two = ScaledDense(1.0), ScaledDense(2.0)
    one(images[:1]), two(images[:1])
    two.set_weights(one.get_weights())
    a, b = predict_batched(one, images), predict_batched(two, images)
    assert len(passes) == 4  # no pass shared, though layers and weights are equal
    np.testing.assert_allclose(b, 2 * a, rtol=1e-5, atol=1e-6)


def test_a_model_whose_config_fails_is_still_answered(images, passes):
    class Unconfigurable(ScaledDense):
        def get_config(self):
            raise TypeError("an argument that cannot be serialised")

    model = Unconfigurable(1.0)
    model(images[:1])  # built, so its weights are what the key reads
    first = predict_batched(model, images)
    np.testing.assert_array_equal(predict_batched(model, images), first)
    assert len(passes) == 2  # remembered, as itself

"""Which images a figure shows: picked from predictions, reproducibly (cladec.examples)."""

from __future__ import annotations

import numpy as np
import pytest

from cladec import examples as ex
from cladec.datasets import FASHION_MNIST_CLASSES

FASHION = FASHION_MNIST_CLASSES


def test_select_examples_right_then_wrong_and_reproducible():
    y = np.arange(100) % 10
    pred = y.copy()
    pred[::7] = (pred[::7] + 1) % 10  # 15 wrong
    idx = ex.select_examples(pred, y, seed=3)
    assert idx.dtype == np.int64 and len(idx) == 8
    assert np.all(pred[idx[:3]] == y[idx[:3]]) and np.all(pred[idx[3:]] != y[idx[3:]])
    assert np.all(np.diff(idx[:3]) > 0) and np.all(np.diff(idx[3:]) > 0)
    assert np.array_equal(idx, ex.select_examples(pred, y, seed=3))
    assert not np.array_equal(idx, ex.select_examples(pred, y, seed=4))
    # class scores work as predictions too
    scores = np.eye(10)[pred]
    assert np.array_equal(idx, ex.select_examples(scores, y, seed=3))


def test_select_examples_falls_back_when_few_are_wrong():
    y = np.arange(50) % 10
    pred = y.copy()
    pred[[4, 9]] = 0  # only two wrong
    idx = ex.select_examples(pred, y, n_right=3, n_wrong=5)
    assert len(idx) == 8
    assert sorted(idx[-2:]) == [4, 9]
    assert np.sum(pred[idx] == y[idx]) == 6
    none_wrong = ex.select_examples(y, y)  # every prediction right: eight right ones, distinct
    assert len(none_wrong) == 8 and len(set(none_wrong.tolist())) == 8
    assert np.all((0 <= none_wrong) & (none_wrong < len(y)))


def test_select_examples_inside_classes_by_name():
    y = np.arange(200) % 10
    pred = np.where(y == 6, 4, y)  # every Shirt read as Coat
    pred[[7, 17]] = 5  # two Sneakers read as Sandal
    idx = ex.select_examples(pred, y, classes=["Shirt", "Sneaker"], class_names=FASHION)
    assert set(y[idx]) <= {6, 7}
    assert len(idx) == 8 and np.sum(pred[idx] != y[idx]) == 5
    with pytest.raises(ValueError, match="unknown class"):
        ex.select_examples(pred, y, classes="Hat", class_names=FASHION)


def test_select_examples_wants_predictions_not_a_classifier():
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    y = np.arange(40) % 10
    with pytest.raises(ValueError, match="not the classifier"):
        ex.select_examples(model, y)
    with pytest.raises(ValueError, match="for the 40 images"):
        ex.select_examples(np.zeros(39, int), y)


def test_first_correct_per_class():
    y = np.array([3, 1, 0, 2, 1, 0, 2, 3])
    pred = np.array([3, 0, 1, 2, 1, 0, 2, 3])
    idx = ex.first_correct_per_class(pred, y)
    assert idx.tolist() == [5, 4, 3, 0]

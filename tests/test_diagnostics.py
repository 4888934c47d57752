"""The decoder diagnostic: class-mean baseline, the classifier's reading, and the collapse warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cladec
from cladec.diagnostics import (
    CollapsedDecoderWarning,
    class_means,
    decoder_diagnostic,
    describe_diagnostic,
)


def test_class_means_are_the_mean_image_of_each_class(mnist_small):
    means = class_means(mnist_small.x_train, mnist_small.y_train, 10)
    sevens = mnist_small.x_train[mnist_small.y_train == 7] / np.float32(255)
    assert means.shape == (10, 28, 28, 1)
    np.testing.assert_allclose(means[7, ..., 0], sevens.mean(axis=0), atol=1e-6)
    # Bit for bit what the unordered np.add.at gave (the shipped records were made with it).
    images = mnist_small.x_train[..., None].astype(np.float32) / np.float32(255)
    sums = np.zeros((10, 28, 28, 1), np.float64)
    np.add.at(sums, mnist_small.y_train, images)
    counts = np.bincount(mnist_small.y_train, minlength=10)[:, None, None, None]
    np.testing.assert_array_equal(means, (sums / counts).astype(np.float32))
    with pytest.raises(ValueError, match=r"classes \[3\] have no images"):
        class_means(
            mnist_small.x_train[:50],
            np.where(mnist_small.y_train[:50] == 3, 2, mnist_small.y_train[:50]),
            10,
        )


def test_a_decoder_trained_into_collapse_is_warned_about(diff_classifier, mnist_small):
    # On purpose: one unit of the 10-unit output layer, one epoch at alpha 0, so
    # the decoder can draw little but an average digit, which is read as one class.
    x, y = mnist_small.x_train, mnist_small.y_train
    explainer = cladec.ClaDec(diff_classifier, "my_dense", units=[0], alpha=0.0)
    explainer.fit(x, y, epochs=1, batch_size=64, verbose=0, cache=False)
    means = class_means(x, y, 10)
    with pytest.warns(
        CollapsedDecoderWarning, match=r"one unit.*reads \d+% of its reconstructions"
    ):
        found = decoder_diagnostic(
            diff_classifier, mnist_small.x_test, mnist_small.y_test, explainer,
            means=means, name="one unit",
        )  # fmt: skip
    assert found["collapsed"] and found["majority_share"] > 0.5
    assert "COLLAPSED" in describe_diagnostic(found)


def test_faithful_reconstructions_are_not_warned_about(diff_classifier, mnist_small):
    means = class_means(mnist_small.x_train, mnist_small.y_train, 10)
    x = mnist_small.x_test[..., None] / np.float32(255)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapsedDecoderWarning)
        found = decoder_diagnostic(diff_classifier, x, mnist_small.y_test, x, means=means)
    assert found["mse"] == 0 and not found["collapsed"]
    # the baseline: drawing each image's class mean
    expected = np.mean((means[mnist_small.y_test] - x) ** 2)
    assert found["class_mean_mse"] == pytest.approx(expected, rel=1e-5)
    assert found["mse_to_class_means"] == pytest.approx(expected, rel=1e-5)

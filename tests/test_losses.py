"""Eq. 1 on hand-computed values."""

import numpy as np
import pytest

from cladec.losses import check_loss_scale, classification_loss, reconstruction_loss, total_loss


def _images(value, n=2):
    return np.full((n, 28, 28, 1), value, dtype=np.float32)


def test_sse_is_summed_per_image_and_averaged_over_the_batch():
    x = _images(0.0)
    x_hat = _images(0.5)
    x_hat[1] = 0.0  # second image perfect
    # image 0: 784 * 0.25 = 196, image 1: 0  ->  mean 98
    assert float(reconstruction_loss(x, x_hat, "sse")) == pytest.approx(98.0)
    per_image = np.asarray(reconstruction_loss(x, x_hat, "sse", reduce=False))
    np.testing.assert_allclose(per_image, [196.0, 0.0])


def test_mse_is_the_per_pixel_mean():
    assert float(reconstruction_loss(_images(0.0), _images(0.5), "mse")) == pytest.approx(0.25)


def test_classification_loss_is_cross_entropy_of_normalised_scores():
    onehot = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    probs = np.array(
        [[0.5, 0.25, 0.25], [0.8, 0.8, 0.0]], np.float32
    )  # row 2: sigmoid-like, sum 1.6
    expected = np.mean([-np.log(0.5), -np.log(0.5)])
    assert float(classification_loss(onehot, probs)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.99, 1.0])
def test_total_loss_is_eq_1(alpha):
    assert float(total_loss(20.0, 0.5, alpha)) == pytest.approx((1 - alpha) * 20.0 + alpha * 0.5)


def test_unknown_loss_scale_is_refused():
    with pytest.raises(ValueError, match="'sse'.*'mse'"):
        check_loss_scale("l1")

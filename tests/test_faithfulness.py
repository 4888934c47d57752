"""Deletion and insertion curves, the random baseline, the rank correlation, the randomisation cascade."""

from __future__ import annotations

import random

import keras
import numpy as np
import pytest

from cladec.saliency.faithfulness import (
    area_summary,
    perturbation_curves,
    random_scores,
    rank_correlation,
)
from cladec.saliency.sanity import cascading_randomisation, randomised_copy

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def corner_model():
    """A classifier that looks only at the top-left 2x2 corner of a 6x6 image.

    Its class-0 probability is sigmoid(8 * (mean of the corner) - 2) (as [p, 1 - p]),
    so a map that ranks the corner first should beat a random ordering by far.
    """
    inputs = keras.Input((6, 6, 1))
    corner = keras.layers.Cropping2D(((0, 4), (0, 4)))(inputs)
    mean = keras.layers.GlobalAveragePooling2D()(corner)
    p = keras.layers.Lambda(lambda t: keras.ops.sigmoid(8.0 * t - 2.0))(mean)
    outputs = keras.layers.Concatenate()([p, keras.layers.Lambda(lambda t: 1.0 - t)(p)])
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def bright_images():
    return (0.6 + 0.4 * RNG.random((40, 6, 6, 1))).astype(np.float32)


def _corner_first():
    scores = np.zeros((40, 6, 6), np.float32)
    scores[:, :2, :2] = 1.0
    return scores


def test_a_map_that_ranks_the_used_pixels_first_beats_a_random_one(corner_model, bright_images):
    random = random_scores((40, 6, 6), seed=1)
    for mode, better in (("deletion", np.less), ("insertion", np.greater)):
        good = perturbation_curves(corner_model, bright_images, _corner_first(), mode, steps=36)
        base = perturbation_curves(corner_model, bright_images, random, mode, steps=36)
        assert better(good.areas.mean(), base.areas.mean()), mode
        assert abs(good.areas.mean() - base.areas.mean()) > 0.3, mode


def test_curves_start_and_end_where_they_must(corner_model, bright_images):
    deletion = perturbation_curves(
        corner_model, bright_images, _corner_first(), "deletion", steps=9
    )
    intact = corner_model(bright_images).numpy()[:, 0]
    np.testing.assert_allclose(deletion.probabilities[:, 0], intact, rtol=1e-5)
    # With the four corner pixels (1/9 of the image) gone, p is sigmoid(-2).
    expected = 1 / (1 + np.exp(2.0))
    np.testing.assert_allclose(deletion.probabilities[:, 1], expected, rtol=1e-5)
    insertion = perturbation_curves(
        corner_model, bright_images, _corner_first(), "insertion", steps=9
    )
    np.testing.assert_allclose(insertion.probabilities[:, 0], expected, rtol=1e-5)
    np.testing.assert_allclose(insertion.probabilities[:, 1], intact, rtol=1e-5)
    assert (
        deletion.fractions[0] == 0 and deletion.fractions[-1] == 1 and len(deletion.fractions) == 10
    )


def test_area_summary_is_the_mean_and_its_standard_error():
    mean, sem = area_summary([0.1, 0.3, 0.5, 0.7])
    assert mean == pytest.approx(0.4)
    assert sem == pytest.approx(np.std([0.1, 0.3, 0.5, 0.7], ddof=1) / 2)
    with pytest.raises(ValueError, match="empty"):
        area_summary([])


def test_bad_curve_requests_are_refused_with_what_is_accepted(corner_model, bright_images):
    scores = _corner_first()
    with pytest.raises(ValueError, match="mode must be one of deletion, insertion; got 'both'"):
        perturbation_curves(corner_model, bright_images, scores, "both")
    with pytest.raises(
        ValueError, match=r"one map per image, shape \(40, 6, 6\); got shape \(40, 36\)"
    ):
        perturbation_curves(corner_model, bright_images, scores.reshape(40, 36), "deletion")
    with pytest.raises(ValueError, match="NaN"):
        perturbation_curves(corner_model, bright_images, scores * np.nan, "deletion")
    with pytest.raises(ValueError, match="steps must be a positive int"):
        perturbation_curves(corner_model, bright_images, scores, "deletion", steps=0)


def test_rank_correlation_is_spearmans_with_ties_averaged():
    a = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    assert rank_correlation(a, a)[0] == pytest.approx(1.0)
    assert rank_correlation(a, -a)[0] == pytest.approx(-1.0)
    assert rank_correlation(a, a**3 + 5)[0] == pytest.approx(1.0)  # only the order counts
    ties = np.array([[[0.0, 0.0], [1.0, 2.0]]])
    # Ranks (0.5, 0.5, 2, 3) against (0, 1, 2, 3): Pearson of the ranks.
    expected = np.corrcoef([0.5, 0.5, 2, 3], [0, 1, 2, 3])[0, 1]
    assert rank_correlation(ties, a)[0] == pytest.approx(expected)
    assert rank_correlation(np.zeros((1, 2, 2)), a)[0] == 0.0
    with pytest.raises(ValueError, match="paired maps of one shape"):
        rank_correlation(a, a[:, :1])


def test_the_cascade_randomises_from_the_top_and_leaves_the_model_alone(perfect_classifier):
    before = [w.copy() for w in perfect_classifier.get_weights()]
    stages = cascading_randomisation(perfect_classifier, seed=0)
    assert [label for label, _ in stages] == ["trained", "+scores", "+my_dense", "+conv2", "+conv1"]
    for after, original in zip(perfect_classifier.get_weights(), before):
        np.testing.assert_array_equal(after, original)

    def same(model, name):
        return all(
            np.array_equal(a, b)
            for a, b in zip(
                model.get_layer(name).get_weights(),
                perfect_classifier.get_layer(name).get_weights(),
            )
        )

    third = dict(stages)["+my_dense"]
    assert not same(third, "scores") and not same(third, "my_dense")
    assert same(third, "conv2") and same(third, "conv1") and same(third, "bn1")
    # The same seed draws the same weights, whatever the global random state: the
    # decoders' store keys depend on them.
    random.seed(123)
    np.random.seed(7)  # noqa: NPY002 (the legacy global state is what must not matter)
    keras.utils.set_random_seed(99)
    again = randomised_copy(perfect_classifier, ["scores", "my_dense"], seed=0)
    # A stage keeps the draws of the stages above it.
    np.testing.assert_array_equal(
        dict(stages)["+scores"].get_layer("scores").get_weights()[0],
        dict(stages)["+conv1"].get_layer("scores").get_weights()[0],
    )
    for a, b in zip(again.get_weights(), third.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="'dropout': not a layer .* with weights; layers with"):
        randomised_copy(perfect_classifier, ["dropout"])

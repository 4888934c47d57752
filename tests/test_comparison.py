"""ClaDec as a pixel map, the faithfulness table with its baselines, the randomisation study."""

from __future__ import annotations

import numpy as np
import pytest

import cladec
from cladec.saliency import comparison

FIT = {"epochs": 1, "batch_size": 64, "verbose": 0, "cache": False}


@pytest.fixture(scope="module")
def explained(perfect_classifier, mnist_small):
    x, y = mnist_small.x_train[:300], mnist_small.y_train[:300]
    refae = cladec.RefAE(perfect_classifier, "my_dense").fit(x, **FIT)
    decoder = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.99).fit(x, y, **FIT)
    return refae, decoder


def test_cladec_rankings_are_the_difference_its_magnitude_or_the_reconstruction(
    explained, mnist_small
):
    refae, decoder = explained
    x = mnist_small.x_test[:6]
    own = decoder.reconstruct(x)[..., 0]
    difference = own - refae.reconstruct(x)[..., 0]
    np.testing.assert_allclose(comparison.cladec_map(decoder, refae, x, "difference"), difference)
    np.testing.assert_allclose(comparison.cladec_map(decoder, refae, x), np.abs(difference))
    np.testing.assert_allclose(comparison.cladec_map(decoder, None, x, "reconstruction"), own)
    with pytest.raises(ValueError, match="needs the RefAE"):
        comparison.cladec_map(decoder, None, x, "magnitude")
    with pytest.raises(ValueError, match="ranking must be one of magnitude, difference"):
        comparison.cladec_map(decoder, refae, x, "sharpness")


def test_the_table_adds_both_baselines_and_the_ink_baseline_beats_random_on_digits(
    perfect_classifier, explained, mnist_small
):
    refae, decoder = explained
    x = mnist_small.x_test[:60, ..., None] / np.float32(255)
    maps = comparison.method_maps(
        perfect_classifier, x, cladec={"cladec": (decoder, refae, "magnitude")},
        methods=("gradient",),
    )  # fmt: skip
    rows, curves = comparison.faithfulness_table(perfect_classifier, x, maps, steps=8)
    by = {(r["method"], r["mode"]): r for r in rows}
    assert {m for m, _ in by} == {"gradient", "cladec", "ink", "random"}
    assert all(r["n"] == 60 and r["sem"] > 0 for r in rows)
    # Deleting a digit's brightest pixels first removes the digit: the classifier must notice.
    assert by[("ink", "deletion")]["area"] < by[("random", "deletion")]["area"] - 0.1
    assert curves[("ink", "deletion")].probabilities.shape == (60, 9)


def test_the_randomisation_study_starts_at_one_and_the_ink_map_never_moves(
    perfect_classifier, explained, mnist_small
):
    refae, _ = explained
    x, y = mnist_small.x_train[:300], mnist_small.y_train[:300]
    stages = [
        (label, model, cladec.ClaDec(model, "my_dense", alpha=0.99).fit(x, y, **FIT))
        for label, model in cladec.saliency.sanity.cascading_randomisation(perfect_classifier)[:3]
    ]
    study = comparison.randomisation_study(
        stages, refae, mnist_small.x_test[:64], mnist_small.y_test[:64], methods=("gradient",)
    )
    assert study.stages == ["trained", "+scores", "+my_dense"]
    predicted = perfect_classifier.predict(mnist_small.x_test[:64, ..., None] / 255, verbose=0)
    assert study.accuracies[0] == np.mean(predicted.argmax(axis=1) == mnist_small.y_test[:64])
    for name in ("gradient", "cladec", "ink"):
        assert study.correlations[name].shape == (3, 64)
        np.testing.assert_allclose(study.correlations[name][0], 1.0)
    np.testing.assert_allclose(study.mean("ink"), 1.0)
    assert study.mean("gradient")[-1] < 0.9 and study.mean("cladec")[-1] < 0.9

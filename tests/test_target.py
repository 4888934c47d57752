"""ClaDec's classification target: the true labels (eq. 1, the reference) or the classifier's predictions."""

from __future__ import annotations

import numpy as np
import pytest

import cladec
from cladec._atomic import array_digest
from cladec.store import ModelStore

FIT = {"epochs": 1, "batch_size": 64, "verbose": 0}


@pytest.fixture(scope="module")
def data(mnist_small):
    return mnist_small.x_train[:300], mnist_small.y_train[:300], mnist_small.x_test[:8]


def _images(x):
    return x[..., None].astype(np.float32) / 255


def test_the_prediction_target_trains_towards_the_classifiers_answers(
    perfect_classifier, data, tmp_path
):
    x, y, x_test = data
    store = ModelStore(tmp_path)
    predicted = perfect_classifier.predict(_images(x), verbose=0).argmax(axis=1)
    assert np.mean(predicted != y) > 0.02, "the short-trained classifier should misread some digits"
    sweep = cladec.fit_alpha_sweep(
        perfect_classifier, "my_dense", [0.0, 0.9], x, y, target="predictions", cache=store, **FIT
    )
    labels = cladec.fit_alpha_sweep(perfect_classifier, "my_dense", [0.9], x, y, cache=store, **FIT)
    fields = [e.meta["fields"] for e in store.entries()]
    entries = {(f["alpha"], f.get("target")): f for f in fields}
    # alpha 0 has no classification term: its key carries no target
    assert set(entries) == {(0.0, None), (0.9, "predictions"), (0.9, None)}
    # the key names the target (and the classifier's fingerprint), not the predicted labels
    assert entries[(0.9, "predictions")]["data"] == array_digest(_images(x), None)
    assert entries[(0.9, None)]["data"] == array_digest(_images(x), y.astype(np.int64))
    assert sweep[0.9].target == "predictions" and labels[0.9].target == "labels"
    assert not np.allclose(sweep[0.9].reconstruct(x_test), labels[0.9].reconstruct(x_test))
    # the prediction target needs no labels at all
    again = cladec.fit_alpha_sweep(
        perfect_classifier, "my_dense", [0.9], x, None, target="predictions", cache=store, **FIT
    )
    assert again[0.9].from_cache
    assert "target='predictions'" in repr(again[0.9])


def test_the_target_survives_save_and_load(perfect_classifier, data, tmp_path):
    x, y, x_test = data
    explainer = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5, target="predictions")
    explainer.fit(x, y, cache=False, **FIT).save(tmp_path / "own")
    loaded = cladec.ClaDec.load(tmp_path / "own", perfect_classifier)
    assert loaded.target == "predictions"
    np.testing.assert_allclose(loaded.reconstruct(x_test), explainer.reconstruct(x_test), atol=1e-6)


def test_an_unknown_target_is_refused_with_the_accepted_ones(perfect_classifier):
    with pytest.raises(
        ValueError, match="target must be 'labels' .* or 'predictions' .*got 'truth'"
    ):
        cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5, target="truth")

"""Evaluation classifiers of one layer trained side by side: as separate fits, in one pass.

Real MNIST digits (1000 training, 300 test) and darkened / brightened copies
stand in for three explainers' reconstructions; two epochs of the reference
recipe, each model in a fresh store.
"""

from __future__ import annotations

import numpy as np
import pytest

from cladec import metrics
from cladec._side_by_side import fit_classifiers_side_by_side
from cladec.architectures import build_classifier
from cladec.store import ModelStore
from cladec.training import fit_classifier, seed_everything

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)


def _sets(d):
    x = d.x_train[..., None].astype(np.float32) / 255
    t = d.x_test[..., None].astype(np.float32) / 255
    return [
        {"x_hat_train": x * s, "x_hat_test": t * s, "label": f"set {i}", "data_id": f"set {i}"}
        for i, s in enumerate((1.0, 0.6, 0.3))
    ]


SETTINGS = dict(architecture="perfect", epochs=2, batch_size=32, seed=0, verbose=0)


def test_side_by_side_trains_what_separate_fits_train(mnist_small, tmp_path):
    d, sets = mnist_small, _sets(mnist_small)
    together = metrics.evaluation_accuracies(
        sets, d.y_train, d.y_test, cache=ModelStore(tmp_path / "together"), **SETTINGS
    )
    alone_store = ModelStore(tmp_path / "alone")
    alone = [
        metrics.evaluation_accuracy(
            s["x_hat_train"],
            d.y_train,
            s["x_hat_test"],
            d.y_test,
            label=s["label"],
            data_id=s["data_id"],
            cache=alone_store,
            **SETTINGS,
        )  # fmt: skip
        for s in sets
    ]
    assert [r["from_cache"] for r in together] == [False, False, False]
    # same recipe, same data: the same store entries, so either way finds the other's models
    assert [r["key"] for r in together] == [r["key"] for r in alone]
    for a, b in zip(together, alone):
        assert a["accuracy"] > 0.5, a  # chance is 0.1
        # Same start and batches; only float rounding differs (300 test digits: 0.01 is 3 digits)
        assert abs(a["accuracy"] - b["accuracy"]) <= 0.01, (a["accuracy"], b["accuracy"])
        assert abs(a["train_accuracy"] - b["train_accuracy"]) <= 0.01
    # each member learnt from its own images, not from the first set's
    assert len({round(r["loss"], 6) for r in together}) == 3


def test_stored_classifiers_load_and_only_the_missing_train(mnist_small, tmp_path):
    d, sets = mnist_small, _sets(mnist_small)
    store = ModelStore(tmp_path / "models")
    first = metrics.evaluation_accuracy(
        sets[1]["x_hat_train"], d.y_train, sets[1]["x_hat_test"], d.y_test,
        data_id=sets[1]["data_id"], cache=store, **SETTINGS,
    )  # fmt: skip
    calls = []

    def lazy(images):
        def make():
            calls.append(1)
            return images

        return make

    mixed = [dict(s, x_hat_train=lazy(s["x_hat_train"])) for s in sets]
    results = metrics.evaluation_accuracies(mixed, d.y_train, d.y_test, cache=store, **SETTINGS)
    assert [r["from_cache"] for r in results] == [False, True, False]
    assert results[1]["accuracy"] == first["accuracy"] and results[1]["key"] == first["key"]
    assert len(calls) == 2  # the stored one's training reconstructions were never made
    assert sorted(e.meta["sweep_size"] for e in store.entries()) == [1, 2, 2]
    again = metrics.evaluation_accuracies(mixed, d.y_train, d.y_test, cache=store, **SETTINGS)
    assert all(r["from_cache"] for r in again) and len(calls) == 2


def test_fit_side_by_side_matches_fit_classifier_weights(mnist_small):
    d = mnist_small
    x = d.x_train[:256, ..., None].astype(np.float32) / 255

    def fresh():
        seed_everything(0)
        return build_classifier("perfect")

    members = [fresh(), fresh()]
    histories = fit_classifiers_side_by_side(
        members, [x, 1 - x], d.y_train[:256], epochs=1, batch_size=32
    )
    alone = fresh()
    history = fit_classifier(alone, x, d.y_train[:256], epochs=1, batch_size=32)
    gap = max(
        float(np.max(np.abs(a - b))) for a, b in zip(members[0].get_weights(), alone.get_weights())
    )
    assert gap < 1e-3, gap  # the same training, up to float rounding
    assert histories[0].epochs["loss"][0] == pytest.approx(history.epochs["loss"][0], rel=1e-3)
    # the second member trained on the inverted digits: other weights
    other = max(
        float(np.max(np.abs(a - b))) for a, b in zip(members[1].get_weights(), alone.get_weights())
    )
    assert other > 100 * gap


def test_bad_sets_are_refused_with_what_is_accepted(mnist_small):
    d, sets = mnist_small, _sets(mnist_small)
    with pytest.raises(ValueError, match="reconstructions is empty"):
        metrics.evaluation_accuracies([], d.y_train, d.y_test, cache=False, **SETTINGS)
    with pytest.raises(ValueError, match=r"reconstructions\[0\] has keys .*accepted"):
        metrics.evaluation_accuracies(
            [{"x_hat_train": sets[0]["x_hat_train"]}], d.y_train, d.y_test, cache=False, **SETTINGS
        )
    with pytest.raises(ValueError, match="one image set per model"):
        fit_classifiers_side_by_side([build_classifier("perfect")], [], d.y_train, epochs=1)
    with pytest.raises(ValueError, match="one image per label"):
        x = sets[0]["x_hat_train"]
        fit_classifiers_side_by_side(
            [build_classifier("perfect")] * 2, [x, x[:10]], d.y_train, epochs=1
        )

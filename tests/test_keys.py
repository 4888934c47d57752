"""A model is keyed by everything that makes it: a changed architecture or loss is never served old weights.

The shipped decoder of ``my_dense`` (MNIST, alpha 0.99, profile full) is
served for the reference settings; the same decoder with one activation
changed (the same weight shapes), or the same settings with another loss,
get a new key and are not served: with ``CLADEC_TRAIN=never`` they are refused.
"""

from __future__ import annotations

import keras
import pytest
from keras import ops

import cladec
from cladec.losses import LOSSES, Eq1Loss, get_loss, register_loss
from cladec.store.keys import architecture_digest, fingerprint_model, store_key
from cladec.store.pretrained import PretrainedBundle

LAYER, ALPHA = "my_dense", 0.99


@pytest.fixture(scope="module")
def shipped():
    """The full-profile MNIST classifier, its training data and the decoder fit settings."""
    profile = cladec.get_profile("full")
    data = cladec.load_dataset("mnist")
    trained = cladec.obtain_classifier("perfect", data, profile="full", verbose=0)
    assert trained.record.source == "pretrained", trained.record.describe()
    fit = {
        "epochs": profile.decoder_epochs,
        "batch_size": profile.decoder_batch_size,
        "seed": 0,
        "verbose": 0,
    }
    return trained.model, data, fit


def _fit(explainer, data, fit):
    return explainer.fit(data.x_train, data.y_train, **fit)


def _with_activation(decoder: keras.Model, activation: str) -> keras.Model:
    """The same decoder with the activation of its first transposed convolution changed."""
    config = decoder.get_config()
    first = next(layer for layer in config["layers"] if layer["class_name"] == "Conv2DTranspose")
    first["config"]["activation"] = activation
    changed = keras.Model.from_config(config)
    changed.set_weights(decoder.get_weights())
    return changed


def _mean_absolute_error(x, x_hat, scale="sse"):
    return ops.mean(ops.sum(ops.abs(x - x_hat), axis=(1, 2, 3)))


def test_the_reference_decoder_is_served_from_the_shipped_models(shipped, monkeypatch):
    monkeypatch.setenv("CLADEC_TRAIN", "never")
    classifier, data, fit = shipped
    explainer = _fit(cladec.ClaDec(classifier, LAYER, alpha=ALPHA), data, fit)
    assert explainer.record.source == "pretrained"
    for field in ("layers", "classifier_layers", "loss", "classifier", "decoder_init", "data"):
        assert field in explainer.record.fields, field
    assert explainer.record.fields["loss"] == "eq1"


def test_another_activation_with_the_same_shapes_gets_a_new_key(shipped, monkeypatch):
    monkeypatch.setenv("CLADEC_TRAIN", "never")
    classifier, data, fit = shipped
    reference = cladec.ClaDec(classifier, LAYER, alpha=ALPHA)
    decoder = reference.build_decoder(fit["seed"])
    changed = _with_activation(decoder, "elu")
    assert [w.shape for w in changed.weights] == [w.shape for w in decoder.weights]
    assert fingerprint_model(changed) == fingerprint_model(decoder)  # the weights alone agree
    assert architecture_digest(changed) != architecture_digest(decoder)

    args = (fit["epochs"], fit["batch_size"], fit["seed"], "data")
    old = store_key(reference.key_fields(*args, decoder))
    other = cladec.ClaDec(classifier, LAYER, alpha=ALPHA, decoder=changed)
    assert store_key(other.key_fields(*args, changed)) != old
    with pytest.raises(cladec.ModelNotAvailable, match="CLADEC_TRAIN=never"):
        _fit(other, data, fit)


def test_another_loss_gets_a_new_key_and_is_not_served(shipped, monkeypatch):
    monkeypatch.setenv("CLADEC_TRAIN", "never")
    classifier, data, fit = shipped
    l1 = Eq1Loss("eq1-l1-test", reconstruction=_mean_absolute_error)
    reference = cladec.ClaDec(classifier, LAYER, alpha=ALPHA)
    other = cladec.ClaDec(classifier, LAYER, alpha=ALPHA, loss=l1)
    decoder = reference.build_decoder(fit["seed"])
    args = (fit["epochs"], fit["batch_size"], fit["seed"], "data")
    old, new = reference.key_fields(*args, decoder), other.key_fields(*args, decoder)
    assert {k for k in old if old[k] != new.get(k)} == {"loss"}
    assert store_key(old) != store_key(new)
    assert PretrainedBundle().find(new, lambda: decoder) is None
    with pytest.raises(cladec.ModelNotAvailable, match="CLADEC_TRAIN=never"):
        _fit(other, data, fit)


def test_refae_and_classifier_keys_hold_their_architecture_and_loss(shipped):
    classifier, data, fit = shipped
    trained = cladec.obtain_classifier("perfect", data, profile="full", verbose=0)
    assert trained.record.fields["layers"] == architecture_digest(
        cladec.build_classifier("perfect")
    )
    assert trained.record.fields["loss"] == "normalised_cross_entropy"
    bundle = PretrainedBundle()
    kinds = {}
    for entry in bundle.manifest["entries"].values():
        kinds.setdefault(entry["fields"]["kind"], entry["fields"])
    assert {"layers", "loss", "classifier_layers", "init"} <= set(kinds["refae"])
    assert {"layers", "loss", "classifier_layers", "decoder_init"} <= set(kinds["cladec"])
    assert {"layers", "init", "loss"} <= set(kinds["classifier"])


def test_a_loss_is_registered_once_by_name():
    mine = Eq1Loss("eq1-test-registry", reconstruction=_mean_absolute_error)
    try:
        assert register_loss(mine) is mine
        assert get_loss("eq1-test-registry") is mine
        with pytest.raises(ValueError, match="registered already"):
            register_loss(Eq1Loss("eq1-test-registry"))
    finally:
        LOSSES.pop("eq1-test-registry", None)
    with pytest.raises(ValueError, match="unknown loss 'nope'.*'eq1'"):
        get_loss("nope")
    with pytest.raises(ValueError, match="non-empty name"):
        Eq1Loss(" ")

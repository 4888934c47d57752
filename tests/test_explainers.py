"""ClaDec and RefAE on small slices of the real MNIST: training, subsets, sweeps, errors."""

import keras
import numpy as np
import pytest

import cladec
from cladec.store import ModelStore, fingerprint_model

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

FIT = {"epochs": 1, "batch_size": 64, "verbose": 0, "cache": False}


@pytest.fixture(scope="module")
def data(mnist_small):
    return mnist_small.x_train[:400], mnist_small.y_train[:400], mnist_small.x_test[:16]


def test_reconstructions_are_images_in_unit_range(perfect_classifier, data):
    x, y, x_test = data
    explainer = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(x, y, **FIT)
    x_hat = explainer.reconstruct(x_test)
    assert x_hat.shape == (16, 28, 28, 1) and x_hat.dtype == np.float32
    assert 0.0 <= x_hat.min() and x_hat.max() <= 1.0
    # uint8 (N, 28, 28) and float (N, 28, 28, 1) inputs are the same images
    np.testing.assert_allclose(
        explainer.reconstruct(x_test[..., None] / np.float32(255)), x_hat, atol=1e-6
    )


def test_classifier_stays_frozen_and_gradient_reaches_the_decoder(perfect_classifier, data):
    x, y, _ = data
    before = fingerprint_model(perfect_classifier)
    explainer = cladec.ClaDec(perfect_classifier, "my_dense", alpha=1.0)
    initial = explainer.build_decoder(0).get_weights()
    explainer.fit(x, y, **FIT)
    assert fingerprint_model(perfect_classifier) == before
    assert perfect_classifier.trainable  # the user's model is not switched off either
    # alpha = 1 has no reconstruction term: only the classification gradient,
    # flowing through the frozen classifier, can have moved the decoder.
    moved = [not np.allclose(a, b) for a, b in zip(initial, explainer.decoder.get_weights())]
    assert all(moved)


def test_refae_trains_a_fresh_encoder(perfect_classifier, data):
    x, _, x_test = data
    before = fingerprint_model(perfect_classifier)
    ref = cladec.RefAE(perfect_classifier, "my_dense")
    initial = ref.build_autoencoder(0).get_weights()
    ref.fit(x, **FIT)
    assert fingerprint_model(perfect_classifier) == before
    encoder_weights = ref.encoder.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(initial, encoder_weights))
    assert fingerprint_model(ref.encoder) != fingerprint_model(
        keras.Model(perfect_classifier.input, perfect_classifier.get_layer("my_dense").output)
    )
    assert ref.reconstruct(x_test).shape == (16, 28, 28, 1)


def test_alpha_sweep_in_one_pass_equals_separate_training(perfect_classifier, data):
    x, y, x_test = data
    alphas = [0.0, 0.5, 0.99]
    sweep = cladec.fit_alpha_sweep(perfect_classifier, "my_dense", alphas, x, y, **FIT)
    assert list(sweep) == alphas
    # Not bit-identical: the combined graph may pick other float kernels, and
    # Adam magnifies last-bit differences in near-zero gradients. The gap must
    # stay tiny next to what a different seed or alpha changes.
    other_seed = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.0).fit(x, y, seed=1, **FIT)
    seed_gap = np.abs(other_seed.reconstruct(x_test) - sweep[0.0].reconstruct(x_test)).mean()
    for alpha in alphas:
        alone = cladec.ClaDec(perfect_classifier, "my_dense", alpha=alpha).fit(x, y, **FIT)
        gap = np.abs(sweep[alpha].reconstruct(x_test) - alone.reconstruct(x_test))
        assert gap.max() < 0.02 and gap.mean() < 1e-3, (alpha, gap.max(), gap.mean())
        assert gap.mean() < seed_gap / 20, (gap.mean(), seed_gap)
    alpha_gap = np.abs(sweep[0.0].reconstruct(x_test) - sweep[0.99].reconstruct(x_test)).mean()
    assert alpha_gap > 1e-2


def test_same_seed_gives_the_same_weights(diff_classifier, data):
    x, y, _ = data
    first = cladec.ClaDec(diff_classifier, "my_conv", alpha=0.5).fit(x, y, seed=3, **FIT)
    second = cladec.ClaDec(diff_classifier, "my_conv", alpha=0.5).fit(x, y, seed=3, **FIT)
    other = cladec.ClaDec(diff_classifier, "my_conv", alpha=0.5).fit(x, y, seed=4, **FIT)
    assert fingerprint_model(first.decoder) == fingerprint_model(second.decoder)
    assert fingerprint_model(first.decoder) != fingerprint_model(other.decoder)


@pytest.mark.parametrize(
    ("layer", "fraction", "expected"),
    [
        ("my_dense", 0.1, 1),
        ("my_dense", 0.5, 5),
        ("my_dense", 0.9, 9),
        ("my_conv", 0.1, 25),
        ("my_conv", 0.9, 230),
    ],
)
def test_fraction_subsets_follow_the_reference_prefix_rule(
    diff_classifier, layer, fraction, expected
):
    explainer = cladec.ClaDec(diff_classifier, layer, units=fraction)
    np.testing.assert_array_equal(explainer.unit_indices, np.arange(expected))


def test_subset_decoders_read_only_their_units(diff_classifier, data):
    x, y, x_test = data
    explicit = cladec.ClaDec(diff_classifier, "my_conv", units=[3, 200, 17]).fit(x, y, **FIT)
    assert explicit.decoder.input_shape == (None, 3)
    np.testing.assert_array_equal(explicit.unit_indices, [3, 17, 200])
    top = cladec.ClaDec(diff_classifier, "my_conv", top_k=4).fit(x, y, **FIT)
    means = top.layer_codes(x).mean(axis=0)
    assert set(top.unit_indices) == set(np.argsort(-means)[:4])
    assert top.reconstruct(x_test).shape == (16, 28, 28, 1)
    ref = cladec.RefAE(diff_classifier, "my_dense", units=0.5).fit(x, **FIT)
    assert ref.decoder.input_shape == (None, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": []}, "empty"),
        ({"units": 0.01}, "empty"),
        ({"units": [0, 10]}, "out of range"),
        ({"units": [1, 1]}, "repeat"),
        ({"units": 5}, "top_k=5"),
        ({"units": 1.5}, r"\(0, 1\]"),
        ({"top_k": 0}, "1..10"),
        ({"top_k": 3, "units": 0.5}, "not both"),
    ],
)
def test_bad_subsets_are_refused(diff_classifier, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cladec.ClaDec(diff_classifier, "my_dense", **kwargs)


@pytest.mark.parametrize(
    ("alpha", "message"), [(1.5, r"\[0, 1\]"), (-0.1, r"\[0, 1\]"), (99, "0.99"), ("0.5", "number")]
)
def test_alpha_outside_unit_interval_is_refused(perfect_classifier, alpha, message):
    with pytest.raises(ValueError, match=message):
        cladec.ClaDec(perfect_classifier, "my_dense", alpha=alpha)


def test_unknown_layer_lists_the_layers(perfect_classifier):
    with pytest.raises(ValueError, match="no layer named 'dense'.*my_conv.*my_dense"):
        cladec.ClaDec(perfect_classifier, "dense")


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((4, 28, 28, 3), np.uint8), r"shape \(4, 28, 28, 3\)"),
        (np.zeros((4, 32, 32), np.uint8), r"shape \(4, 32, 32, 1\)"),
        (np.full((4, 28, 28, 1), 255.0, np.float32), "divide uint8 pixels by 255"),
        (np.zeros((4, 28, 28), np.int64), "dtype int64"),
        (np.zeros((0, 28, 28), np.uint8), "no images"),
        (np.full((4, 28, 28), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_images_are_refused(perfect_classifier, images, message):
    explainer = cladec.ClaDec(perfect_classifier, "my_dense")
    with pytest.raises(ValueError, match=message):
        explainer.fit(images, np.zeros(len(images), int), **FIT)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.zeros(3, int), "3 labels but there are 4"),
        (np.array([0, 1, 2, 10]), r"0\.\.9"),
        (np.full(4, 0.5), "integer"),
    ],
)
def test_bad_labels_are_refused(perfect_classifier, data, labels, message):
    x = data[0][:4]
    with pytest.raises(ValueError, match=message):
        cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(x, labels, **FIT)


def test_alpha_above_zero_needs_labels(perfect_classifier, data):
    with pytest.raises(ValueError, match="y"):
        cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(data[0], **FIT)


def _logit_classifier():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="features")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x), name="logit_net")


def test_logit_outputs_are_refused_when_alpha_is_positive(data):
    x, y, _ = data
    model = _logit_classifier()
    model.get_layer("logits").set_weights(
        [np.full((2704, 10), 5.0, np.float32), np.full(10, 3.0, np.float32)]
    )
    with pytest.raises(ValueError, match="softmax"):
        cladec.ClaDec(model, "flat", alpha=0.5).fit(x[:32], y[:32], **FIT)
    # alpha = 0 never calls the classifier on reconstructions: any model works
    cladec.ClaDec(model, "flat", alpha=0.0).fit(x[:32], **FIT)


def test_any_keras_classifier_gets_a_working_default_decoder(data):
    x, y, x_test = data
    inputs = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="block")(
        inputs
    )
    h = keras.layers.GlobalAveragePooling2D(name="pooled")(h)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h), name="tiny")
    for layer in ("block", "pooled"):
        explainer = cladec.ClaDec(model, layer, alpha=0.5).fit(x[:64], y[:64], **FIT)
        assert explainer.reconstruct(x_test).shape == (16, 28, 28, 1)


def test_custom_decoder_is_checked_and_used(perfect_classifier, data):
    x, y, x_test = data
    codes = keras.Input((128,))
    out = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="sigmoid")(codes))
    decoder = keras.Model(codes, out)
    explainer = cladec.ClaDec(perfect_classifier, "my_dense", decoder=decoder).fit(x, **FIT)
    assert explainer.decoder is decoder
    wrong = keras.Model(codes, keras.layers.Dense(5)(codes))
    with pytest.raises(ValueError, match="decoder must map"):
        cladec.ClaDec(perfect_classifier, "my_dense", decoder=wrong).fit(x, **FIT)


def test_save_and_load_round_trip(perfect_classifier, data, tmp_path):
    x, y, x_test = data
    explainer = cladec.ClaDec(perfect_classifier, "my_conv", alpha=0.5, units=0.5).fit(x, y, **FIT)
    explainer.save(tmp_path / "cladec")
    again = cladec.ClaDec.load(tmp_path / "cladec", perfect_classifier)
    assert again.alpha == 0.5 and again.n_units == 1568
    np.testing.assert_allclose(again.reconstruct(x_test), explainer.reconstruct(x_test), atol=1e-6)
    ref = cladec.RefAE(perfect_classifier, "my_dense").fit(x, **FIT)
    ref.save(tmp_path / "refae")
    ref_again = cladec.RefAE.load(tmp_path / "refae", perfect_classifier)
    np.testing.assert_allclose(ref_again.reconstruct(x_test), ref.reconstruct(x_test), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="cladec.json"):
        cladec.ClaDec.load(tmp_path / "refae", perfect_classifier)


def test_save_never_destroys_a_folder_it_did_not_write(perfect_classifier, data, tmp_path):
    # issue 27, case 3: saving into a project folder used to leave only the explainer's files
    x, y, x_test = data
    explainer = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(x, y, **FIT)
    ref = cladec.RefAE(perfect_classifier, "my_dense").fit(x, **FIT)
    for name, model in (("project", explainer), ("thesis", ref)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "notes.md").write_text("my notes\n")
        with pytest.raises(cladec.FolderNotOwned, match=f"{name}.*not a folder saved by"):
            model.save(folder)
        assert sorted(p.name for p in folder.iterdir()) == ["notes.md"]
        assert (folder / "notes.md").read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "thesis"]  # no leftovers
    # an earlier save of the same kind, or an empty folder, may be replaced
    (tmp_path / "empty").mkdir()
    explainer.save(tmp_path / "empty")
    explainer.save(tmp_path / "empty")
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == [
        "cladec.json",
        "decoder.keras",
    ]
    with pytest.raises(cladec.FolderNotOwned, match="not a folder saved by RefAE.save"):
        ref.save(tmp_path / "empty")  # a ClaDec's folder is not a RefAE's


def test_unfitted_explainer_says_so(perfect_classifier, data):
    with pytest.raises(RuntimeError, match="not fitted"):
        cladec.ClaDec(perfect_classifier, "my_dense").reconstruct(data[2])


def test_fit_is_a_cache_hit_the_second_time(perfect_classifier, data, tmp_path):
    x, y, x_test = data
    store = ModelStore(tmp_path)
    settings = {"epochs": 1, "batch_size": 64, "verbose": 0, "cache": store}
    first = cladec.fit_alpha_sweep(perfect_classifier, "my_dense", [0.0, 0.5], x, y, **settings)
    assert not any(e.from_cache for e in first.values())
    # a sweep that adds one alpha trains only that one
    second = cladec.fit_alpha_sweep(
        perfect_classifier, "my_dense", [0.0, 0.5, 0.9], x, y, **settings
    )
    assert [e.from_cache for e in second.values()] == [True, True, False]
    np.testing.assert_array_equal(second[0.5].reconstruct(x_test), first[0.5].reconstruct(x_test))
    ref = cladec.RefAE(perfect_classifier, "my_dense")
    assert not ref.fit(x, **{**settings}).from_cache
    assert cladec.RefAE(perfect_classifier, "my_dense").fit(x, **settings).from_cache
    assert len(store.entries()) == 4
    # the first pass trained two decoders, the second one: each records its sweep
    assert sorted(e.meta["sweep_size"] for e in store.entries() if e.kind == "cladec") == [1, 2, 2]


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs or {}))


def test_fit_keeps_every_epoch_takes_callbacks_and_validation_data(perfect_classifier, data):
    x, y, x_test = data
    recorder = _Recorder()
    explainer = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(
        x,
        y,
        epochs=3,
        batch_size=64,
        verbose=0,
        validation_data=(x_test, np.zeros(len(x_test), int)),
        callbacks=[recorder],
    )
    history = explainer.history.epochs
    assert set(history) == {
        "total",
        "reconstruction",
        "classification",
        "val_total",
        "val_reconstruction",
        "val_classification",
    }
    assert all(len(values) == 3 for values in history.values())
    assert history["reconstruction"][-1] < history["reconstruction"][0]
    assert len(recorder.epochs) == 3 and "val_m0_total" in recorder.epochs[0]
    assert explainer.record.source == "trained"  # callbacks bypass the cache


def test_early_stopping_stops_a_refae_and_its_history_says_so(perfect_classifier, data):
    x, _, x_test = data
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    ref = cladec.RefAE(perfect_classifier, "my_conv").fit(
        x, epochs=5, batch_size=64, verbose=0, validation_data=x_test, callbacks=[stop]
    )
    assert len(ref.history.epochs["total"]) == 2  # stopped after the first epoch failed to improve
    assert len(ref.history.epochs["val_total"]) == 2


def test_cached_fit_returns_the_recorded_history(perfect_classifier, data, tmp_path):
    x, y, _ = data
    store = ModelStore(tmp_path, pretrained=False)
    first = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(
        x, y, epochs=2, batch_size=64, verbose=0, cache=store
    )
    again = cladec.ClaDec(perfect_classifier, "my_dense", alpha=0.5).fit(
        x, y, epochs=2, batch_size=64, verbose=0, cache=store
    )
    assert again.from_cache and again.history.epochs == first.history.epochs
    assert len(again.history.epochs["total"]) == 2

"""The model cache: hits, misses, damaged entries, interrupted writes, the command line."""

import json
import subprocess
import sys

import keras
import pytest

import cladec
from cladec.cli.main import main
from cladec.store import ModelStore, fingerprint_model, training_time_text

FIELDS = {"kind": "test", "layer": "my_dense", "alpha": 0.5, "epochs": 1}


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return cladec.architectures.build_decoder(10, classifier_kind="diff", layer_name="my_dense")


def test_miss_then_hit_with_the_same_weights(tmp_path):
    store = ModelStore(tmp_path)
    assert store.load(FIELDS, _model) is None
    model = _model(1)
    path = store.save(FIELDS, model, train_seconds=2.5, metrics={"loss": 1.0})
    model_back, meta = store.load(FIELDS, _model)
    assert fingerprint_model(model_back) == fingerprint_model(model)
    assert (
        meta["fields"] == FIELDS
        and meta["train_seconds"] == 2.5
        and meta["metrics"] == {"loss": 1.0}
    )
    assert {"keras", "tensorflow", "cladec"} <= set(meta["versions"])
    assert path.parent == tmp_path
    assert store.load({**FIELDS, "alpha": 0.9}, _model) is None  # any field changes the key


def test_key_ignores_dict_order_but_not_values():
    assert ModelStore.key({"a": 1, "b": 2}) == ModelStore.key({"b": 2, "a": 1})
    assert ModelStore.key({"a": 1}) != ModelStore.key({"a": 1.5})


@pytest.mark.parametrize("damage", ["weights", "meta", "missing"])
def test_damaged_entry_is_reported_removed_and_retrained(tmp_path, damage):
    store = ModelStore(tmp_path)
    path = store.save(FIELDS, _model(), train_seconds=1.0)
    if damage == "weights":
        data = bytearray((path / "model.weights.h5").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (path / "model.weights.h5").write_bytes(bytes(data))
    elif damage == "meta":
        (path / "meta.json").write_text("{not json")
    else:
        (path / "model.weights.h5").unlink()
    with pytest.warns(RuntimeWarning, match="corrupted"):
        assert store.load(FIELDS, _model) is None
    assert not path.exists()


def test_entry_of_other_settings_is_not_trusted(tmp_path):
    store = ModelStore(tmp_path)
    path = store.save(FIELDS, _model(), train_seconds=1.0)
    meta = json.loads((path / "meta.json").read_text())
    meta["key"] = "0" * 64
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.warns(RuntimeWarning, match="other training settings"):
        assert store.load(FIELDS, _model) is None


def test_interrupted_write_leaves_nothing_that_loads(tmp_path, monkeypatch):
    store = ModelStore(tmp_path)
    model = _model()

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(ModelStore, "_write_meta", crash, raising=False)
    original = model.save_weights

    def half_written(path, *args, **kwargs):
        original(path, *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(model, "save_weights", half_written)
    with pytest.raises(OSError, match="disk full"):
        store.save(FIELDS, model, train_seconds=1.0)
    assert list(tmp_path.iterdir()) == []
    assert store.load(FIELDS, _model) is None


def test_rewriting_an_entry_replaces_it_whole(tmp_path):
    store = ModelStore(tmp_path)
    store.save(FIELDS, _model(1), train_seconds=1.0)
    newer = _model(2)
    store.save(FIELDS, newer, train_seconds=2.0)
    back, meta = store.load(FIELDS, _model)
    assert fingerprint_model(back) == fingerprint_model(newer) and meta["train_seconds"] == 2.0
    assert len(list(tmp_path.iterdir())) == 1


def test_train_classifier_goes_through_the_cache(mnist_small, tmp_path):
    store = ModelStore(tmp_path, pretrained=False)
    first = cladec.obtain_classifier(
        "diff", mnist_small, profile="quick", epochs=1, cache=store, verbose=0
    )
    assert first.record.source == "trained"
    assert first.test_accuracy > 0.5  # 1 epoch on 1000 digits, far above chance (0.1)
    assert len(first.record.history.epochs["loss"]) == 1
    second = cladec.obtain_classifier(
        "diff", mnist_small, profile="quick", epochs=1, cache=store, verbose=0
    )
    assert second.record.source == "cache" and second.record.from_cache
    assert fingerprint_model(second.model) == fingerprint_model(first.model)
    assert second.test_accuracy == first.test_accuracy
    assert second.record.history.epochs == first.record.history.epochs
    assert "loaded from the model cache" in second.record.describe()
    assert isinstance(
        cladec.train_classifier(
            "diff", mnist_small, profile="quick", epochs=1, cache=store, verbose=0
        ),
        keras.Model,
    )


def test_cli_lists_and_clears_the_cache(tmp_path, capsys):
    store = ModelStore(tmp_path)
    store.save({**FIELDS, "kind": "cladec"}, _model(), train_seconds=3.0)
    assert main(["cache", "list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 cached model(s)" in out and "cladec" in out and "alpha=0.5" in out
    assert main(["cache", "clear", "--root", str(tmp_path)]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert store.entries() == []


def test_cli_says_a_sweep_members_time_is_its_share(tmp_path, capsys):
    store = ModelStore(tmp_path)
    store.save({**FIELDS, "kind": "cladec"}, _model(), train_seconds=70.0, sweep_size=10)
    assert main(["cache", "list", "--root", str(tmp_path)]) == 0
    assert "70 s, its share of a 10-model sweep of 700 s" in capsys.readouterr().out
    assert training_time_text({"train_seconds": 12.4}) == "12 s"  # entries from before sweep_size


def test_cli_help_and_usage_errors():
    done = subprocess.run(
        [sys.executable, "-m", "cladec", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "cache" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "cladec", "cache", "shred"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


def test_profiles_are_validated(monkeypatch):
    assert cladec.get_profile("quick").n_train == 2000
    monkeypatch.setenv("CLADEC_PROFILE", "fast")
    with pytest.raises(ValueError, match="CLADEC_PROFILE='fast'.*full, quick"):
        cladec.get_profile()
    monkeypatch.setenv("CLADEC_PROFILE", "quick")
    assert cladec.get_profile().name == "quick"
    full = cladec.get_profile("full")
    # the reference recipe: 10 epochs at batch 32 for every model
    assert {
        full.epochs_for(k, d) for k in ("perfect", "diff") for d in ("mnist", "fashion_mnist")
    } == {10}
    assert (full.decoder_epochs, full.eval_epochs, full.refae_settings()) == (10, 10, (10, 32))
    assert full.classifier_batch_size == full.decoder_batch_size == 32


def test_a_compiled_model_is_stored_without_its_optimizer_state(tmp_path):
    model = cladec.build_classifier("diff")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)  # Adam's two slots per weight exist now
    store = ModelStore(tmp_path, pretrained=False)
    path = store.save(FIELDS, model, train_seconds=1.0)
    bare = ModelStore(tmp_path / "bare", pretrained=False).save(
        FIELDS, cladec.build_classifier("diff"), train_seconds=1.0
    )
    size, bare_size = ((p / "model.weights.h5").stat().st_size for p in (path, bare))
    assert size < 1.2 * bare_size  # not three times: no optimizer variables
    back, _ = store.load(FIELDS, lambda: cladec.build_classifier("diff"))
    assert fingerprint_model(back) == fingerprint_model(model)

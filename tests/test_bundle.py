"""The shipped models: lookup order, damage, the never-train setting, build and verify, cache archives."""

from __future__ import annotations

import io
import json
import shutil
import tarfile

import keras
import pytest

import cladec
from cladec.exceptions import ModelNotAvailable
from cladec.history import TrainingHistory
from cladec.store import ModelRequest, ModelStore, PretrainedBundle, Trained, fingerprint_model
from cladec.store.archive import ArchiveError, export_cache, import_cache
from cladec.store.pretrained import MANIFEST
from cladec.studies.shipped import verify_bundle, write_bundle

FIELDS = {"kind": "test", "layer": "my_dense", "alpha": 0.5, "epochs": 1}


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return cladec.architectures.build_decoder(10, classifier_kind="diff", layer_name="my_dense")


def _bundle_with(tmp_path, fields=FIELDS, seed=1) -> PretrainedBundle:
    """A bundle holding one model, in the store's entry format, listed in a manifest."""
    root = tmp_path / "bundle"
    folder = ModelStore(root).save(fields, _model(seed), train_seconds=1329.0)
    meta = json.loads((folder / "meta.json").read_text())
    manifest = {
        "entries": {meta["key"]: {"folder": folder.name, "weights_sha256": meta["weights_sha256"]}}
    }
    (root / MANIFEST).write_text(json.dumps(manifest))
    return PretrainedBundle(root)


def _request(label="test model (mnist, my_dense, alpha 0.5, profile full)"):
    return ModelRequest(FIELDS, _model, label, {"dataset": "mnist"})


def _train_never_called(_missing):
    raise AssertionError("nothing should train")


def test_cache_first_then_shipped_models_then_training(tmp_path):
    bundle = _bundle_with(tmp_path)
    store = ModelStore(tmp_path / "cache", bundle=bundle, pretrained=True)
    [(model, record)] = store.obtain([_request()], _train_never_called)
    assert record.source == "pretrained" and record.from_cache
    assert fingerprint_model(model) == fingerprint_model(_model(1))
    assert record.describe().startswith("shipped pretrained model, trained in 1,329 s on ")
    # a model in the user's cache wins over the shipped one
    store.save(FIELDS, _model(2), train_seconds=5.0)
    [(model, record)] = store.obtain([_request()], _train_never_called)
    assert record.source == "cache" and fingerprint_model(model) == fingerprint_model(_model(2))
    # neither: it trains, and the trained model is cached
    other = ModelStore(tmp_path / "other", pretrained=False)
    trained = other.obtain(
        [_request()], lambda m: [Trained(_model(3), TrainingHistory({"total": [1.0]}))]
    )
    assert trained[0][1].source == "trained" and other.find(FIELDS, _model)[1].source == "cache"


def test_the_shipped_models_can_be_switched_off(tmp_path, monkeypatch):
    bundle = _bundle_with(tmp_path)
    assert ModelStore(tmp_path / "c", bundle=bundle, pretrained=False).find(FIELDS, _model) is None
    monkeypatch.setenv("CLADEC_PRETRAINED", "0")
    assert ModelStore(tmp_path / "c", bundle=bundle).find(FIELDS, _model) is None
    monkeypatch.setenv("CLADEC_PRETRAINED", "1")
    assert ModelStore(tmp_path / "c", bundle=bundle).find(FIELDS, _model) is not None
    monkeypatch.setenv("CLADEC_PRETRAINED", "maybe")
    with pytest.raises(ValueError, match="CLADEC_PRETRAINED='maybe'.*1 \\(default\\) or 0"):
        ModelStore(tmp_path / "c", bundle=bundle).find(FIELDS, _model)


def test_a_damaged_shipped_model_is_reported_and_never_used(tmp_path):
    bundle = _bundle_with(tmp_path)
    weights = next(bundle.root.glob("*/model.weights.h5"))
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    store = ModelStore(tmp_path / "cache", bundle=bundle, pretrained=True)
    with pytest.warns(RuntimeWarning, match="does not match the manifest"):
        assert store.find(FIELDS, _model) is None
    assert weights.exists()  # read only: reported, not removed


def test_never_train_names_the_model_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("CLADEC_TRAIN", "never")
    store = ModelStore(tmp_path / "cache", pretrained=False)
    with pytest.raises(ModelNotAvailable) as caught:
        store.obtain([_request()], _train_never_called)
    message = str(caught.value)
    assert "test model (mnist, my_dense, alpha 0.5, profile full)" in message
    assert "CLADEC_TRAIN=never" in message and "python -m cladec pretrained build" in message
    # a shipped model is served without training
    shipped = ModelStore(tmp_path / "cache", bundle=_bundle_with(tmp_path), pretrained=True)
    assert shipped.obtain([_request()], _train_never_called)[0][1].source == "pretrained"
    # cache=False still honours the setting
    with pytest.raises(ModelNotAvailable, match="CLADEC_TRAIN=never forbids training"):
        cladec.ClaDec(_tiny_classifier(), "my_dense").fit(
            _images(), epochs=1, cache=False, verbose=0
        )
    monkeypatch.setenv("CLADEC_TRAIN", "sometimes")
    with pytest.raises(ValueError, match="CLADEC_TRAIN='sometimes'.*auto, never"):
        store.obtain([_request()], _train_never_called)


def _tiny_classifier():
    keras.utils.set_random_seed(0)
    return cladec.build_classifier("diff")


def _images():
    import numpy as np

    return np.zeros((8, 28, 28), np.uint8)


@pytest.fixture(scope="module")
def quick_bundle(tmp_path_factory, mnist):
    """A bundle built the way the real one is: models obtained with their use recorded."""
    import os

    from cladec.lesson import explain_layer

    root = tmp_path_factory.mktemp("quick-bundle")
    record = root / "used.jsonl"
    os.environ["CLADEC_RECORD_MODELS"] = str(record)
    try:
        run = explain_layer(
            mnist, "my_dense", classifier="diff", alphas=(0.0, 0.5), profile="quick", verbose=0
        )
    finally:
        del os.environ["CLADEC_RECORD_MODELS"]
    used = {}
    for line in record.read_text().splitlines():
        item = json.loads(line)
        used.setdefault(item["key"], item["context"])
    target = write_bundle(
        used,
        store=ModelStore(pretrained=False),
        target=root / "bundle",
        commit="abc123",
        log=lambda m: None,
    )
    return run, used, PretrainedBundle(target)


def test_build_writes_exactly_the_models_used_and_verify_passes(quick_bundle):
    run, used, bundle = quick_bundle
    assert len(used) == 4  # classifier, RefAE, two decoders
    manifest = bundle.manifest
    assert set(manifest["entries"]) == set(used) and manifest["commit"] == "abc123"
    kinds = sorted(e["fields"]["kind"] for e in manifest["entries"].values())
    assert kinds == ["cladec", "cladec", "classifier", "refae"]
    accuracy = next(e for e in manifest["entries"].values() if e["fields"]["kind"] == "classifier")
    assert accuracy["measured"]["value"] == pytest.approx(run.trained_classifier.test_accuracy)
    assert verify_bundle(bundle, log=None) == []


def test_verify_reports_a_changed_model(quick_bundle, tmp_path):
    _, _, bundle = quick_bundle
    copy = tmp_path / "copy"
    shutil.copytree(bundle.root, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    key = next(k for k, e in manifest["entries"].items() if e["fields"]["kind"] == "cladec")
    manifest["entries"][key]["measured"]["value"] += 0.5
    (copy / MANIFEST).write_text(json.dumps(manifest))
    problems = verify_bundle(PretrainedBundle(copy), log=None)
    assert [p.key for p in problems] == [key] and "test_reconstruction_loss" in problems[0].message


def _own_cnn() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(16, activation="relu", name="features")(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x), name="own_cnn")


def test_a_classifier_of_ones_own_is_bundled_from_its_stored_architecture(
    tmp_path, mnist, monkeypatch
):
    record = tmp_path / "used.jsonl"
    monkeypatch.setenv("CLADEC_RECORD_MODELS", str(record))
    obtained = cladec.obtain_classifier(_own_cnn, mnist, profile="quick", verbose=0)
    monkeypatch.delenv("CLADEC_RECORD_MODELS")
    used = {}
    for line in record.read_text().splitlines():
        item = json.loads(line)
        used.setdefault(item["key"], item["context"])
    [key] = used
    assert "architecture_json" in used[key]  # the builder is the user's code, not ours
    store = ModelStore(pretrained=False)
    target = write_bundle(used, store=store, target=tmp_path / "b", commit=None, log=lambda m: None)
    [entry] = PretrainedBundle(target).manifest["entries"].values()
    assert entry["measured"]["value"] == pytest.approx(obtained.test_accuracy)
    # an entry stored without its architecture is refused with what to do
    meta_file = store.root / key[:24] / "meta.json"
    meta = json.loads(meta_file.read_text())
    del meta["context"]["architecture_json"]
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(LookupError, match="custom:_own_cnn.*without its architecture.*again"):
        write_bundle(used, store=store, target=tmp_path / "c", commit=None, log=lambda m: None)


def test_cache_archive_round_trip(tmp_path):
    teacher = ModelStore(tmp_path / "teacher", pretrained=False)
    teacher.save(FIELDS, _model(1), train_seconds=3.0)
    teacher.save({**FIELDS, "alpha": 0.9}, _model(2), train_seconds=4.0)
    archive = tmp_path / "lab.tar.gz"
    assert export_cache(teacher, archive) == 2
    student = ModelStore(tmp_path / "student", pretrained=False)
    assert import_cache(student, archive) == 2
    model, meta = student.load(FIELDS, _model)
    assert fingerprint_model(model) == fingerprint_model(_model(1)) and meta["train_seconds"] == 3.0


def _tamper(archive, out, change):
    """Rewrite an archive member by member, letting ``change(name, data)`` alter one."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("weights", "do not match their checksum"),
        ("foreign", "its first member is 'notes.txt'"),
        ("truncated", "is damaged"),
        ("extra member", r"member '\.\./outside\.txt' is refused"),
        ("missing", "the archive is incomplete"),
    ],
)
def test_a_damaged_or_foreign_archive_is_refused_and_the_cache_unchanged(tmp_path, damage, says):
    teacher = ModelStore(tmp_path / "teacher", pretrained=False)
    teacher.save(FIELDS, _model(1), train_seconds=3.0)
    archive, bad = tmp_path / "lab.tar.gz", tmp_path / "bad.tar.gz"
    export_cache(teacher, archive)
    if damage == "weights":
        flip = lambda n, d: d[:-10] + bytes([d[-10] ^ 0xFF]) + d[-9:] if n.endswith(".h5") else d  # noqa: E731
        _tamper(archive, bad, flip)
    elif damage == "foreign":
        with tarfile.open(bad, "w:gz") as tar:
            tar.add(__file__, arcname="notes.txt")
    elif damage == "truncated":
        bad.write_bytes(archive.read_bytes()[:200])
    elif damage == "extra member":
        with tarfile.open(archive, "r:gz") as src, tarfile.open(bad, "w:gz") as dst:
            for member in src.getmembers():
                dst.addfile(member, src.extractfile(member))
            info = tarfile.TarInfo("../outside.txt")
            dst.addfile(info, io.BytesIO(b""))
    else:
        _tamper(archive, bad, lambda n, d: None if n.endswith(".h5") else d)
    student = ModelStore(tmp_path / "student", pretrained=False)
    student.save({**FIELDS, "alpha": 0.1}, _model(5), train_seconds=1.0)
    before = sorted(p.name for p in student.root.iterdir())
    with pytest.raises(ArchiveError, match=says):
        import_cache(student, bad)
    assert sorted(p.name for p in student.root.iterdir()) == before


def test_exporting_an_empty_cache_says_so(tmp_path):
    with pytest.raises(ArchiveError, match="holds no models to export"):
        export_cache(ModelStore(tmp_path / "empty"), tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()

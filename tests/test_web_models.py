"""The live page's ONNX models: the files that ship match the shipped weights and Keras."""

from __future__ import annotations

import copy as copy_module
import json
import shutil

import numpy as np
import pytest

from cladec.exceptions import FolderNotOwned
from cladec.studies import web_models
from cladec.studies.web_models import (
    LIVE_ALPHAS,
    TOLERANCE,
    WEB_DIR,
    check_web_models,
    export_web_models,
    live_models,
)

onnxruntime = pytest.importorskip("onnxruntime", reason="pip install onnxruntime (test extra)")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((WEB_DIR / "manifest.json").read_text())


def test_every_shipped_onnx_file_matches_its_weights_and_keras():
    assert check_web_models(n_images=256) == []


def test_the_manifest_lists_the_page_models_of_both_datasets(manifest):
    assert manifest["alphas"] == list(LIVE_ALPHAS)
    for dataset in ("mnist", "fashion_mnist"):
        files = manifest["datasets"][dataset]["files"]
        decoders = {f"cladec-alpha-{a:g}.onnx" for a in LIVE_ALPHAS}
        assert set(files) == {"classifier.onnx", "refae.onnx", *decoders}
        for name, entry in files.items():
            assert entry["max_abs_difference"] <= TOLERANCE, name
            assert (WEB_DIR / dataset / name).stat().st_size == entry["bytes"], name


def test_the_example_row_holds_one_right_image_per_class_then_misread_ones():
    run = live_models("mnist")
    row = json.loads((WEB_DIR / "mnist" / "examples.json").read_text())
    pixels = np.array(row["pixels"], np.uint8).reshape(-1, 28, 28)
    np.testing.assert_array_equal(pixels, run.data.x_test[row["index"]])
    predicted = run.classifier.predict(pixels[..., None] / np.float32(255), verbose=0).argmax(1)
    assert predicted.tolist() == row["predicted"]
    assert row["label"][:10] == list(range(10)) and row["predicted"][:10] == list(range(10))
    wrong = np.array(row["label"][10:]) != np.array(row["predicted"][10:])
    assert len(wrong) == web_models.N_MISREAD and wrong.all()


def _mnist_only_copy(tmp_path, manifest):
    copy = tmp_path / "web_models"
    shutil.copytree(WEB_DIR / "mnist", copy / "mnist")
    only = {**manifest, "datasets": {"mnist": copy_module.deepcopy(manifest["datasets"]["mnist"])}}
    (copy / "manifest.json").write_text(json.dumps(only))
    return copy, only


def test_an_export_of_weights_no_longer_shipped_is_reported(tmp_path, manifest):
    copy, only = _mnist_only_copy(tmp_path, manifest)
    only["datasets"]["mnist"]["files"]["refae.onnx"]["weights_sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(only))
    problems = check_web_models(copy, n_images=16)
    assert [p.file for p in problems] == ["mnist/refae.onnx"]
    assert "no longer ships" in problems[0].message


def test_a_changed_onnx_file_is_reported(tmp_path, manifest):
    copy, _ = _mnist_only_copy(tmp_path, manifest)
    path = copy / "mnist" / "cladec-alpha-0.5.onnx"
    path.write_bytes(path.read_bytes()[:-10])
    problems = check_web_models(copy, n_images=16)
    assert [p.file for p in problems] == ["mnist/cladec-alpha-0.5.onnx"]


def test_an_export_never_replaces_a_folder_of_other_files(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FolderNotOwned):
        export_web_models(target)
    assert (target / "notes.txt").read_text() == "keep me"


def test_a_fresh_decoder_export_runs_in_onnxruntime_like_keras(tmp_path):
    pytest.importorskip("tf2onnx", reason="pip install tf2onnx (test extra)")
    import keras

    from cladec.architectures import build_decoder

    keras.utils.set_random_seed(3)
    decoder = build_decoder(128, classifier_kind="perfect", layer_name="my_dense")
    codes = np.random.default_rng(0).uniform(0, 4, (32, 128)).astype(np.float32)
    decoder(codes[:1])
    path = tmp_path / "decoder.onnx"
    decoder.export(str(path), format="onnx", verbose=False)
    # Keras' output_padding=1 comes out as a pad of -1, which onnxruntime refuses
    with pytest.raises(Exception, match="negative"):
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert web_models._fold_negative_pads(path) == 1
    got, _ = web_models._onnx_outputs(path, codes)
    expected = decoder.predict(codes, verbose=0)
    assert got[0].shape == expected.shape == (32, 28, 28, 1)
    assert np.max(np.abs(got[0] - expected)) <= TOLERANCE

"""The pretrained models shipped in cladec/pretrained: complete, intact, small, and re-measurable."""

from __future__ import annotations

import json

import pytest

from cladec._atomic import sha256_file
from cladec.store.pretrained import BUNDLE_DIR, PretrainedBundle
from cladec.studies.shipped import verify_bundle

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

MAX_BYTES = 40 * 1024 * 1024  # the size the package may grow by


def test_the_bundle_lists_every_model_it_holds_and_nothing_else():
    bundle = PretrainedBundle()
    entries = bundle.manifest["entries"]
    assert entries, "no shipped models: run `python -m cladec pretrained build`"
    folders = {p.name for p in BUNDLE_DIR.iterdir() if p.is_dir()}
    assert folders == {e["folder"] for e in entries.values()}
    for key, entry in entries.items():
        folder = BUNDLE_DIR / entry["folder"]
        assert sha256_file(folder / "model.weights.h5") == entry["weights_sha256"]
        assert json.loads((folder / "meta.json").read_text())["key"] == key
    commit = bundle.manifest["commit"]
    assert isinstance(commit, str) and len(commit) == 40, f"manifest commit {commit!r}"


def test_the_bundle_holds_every_kind_of_model_the_site_needs():
    entries = PretrainedBundle().manifest["entries"].values()
    kinds = {e["fields"]["kind"] for e in entries}
    assert kinds == {"classifier", "refae", "cladec", "eval_classifier"}
    classifiers = {
        (e["fields"]["architecture"], e["fields"]["dataset"])
        for e in entries
        if e["fields"]["kind"] == "classifier"
    }
    assert classifiers == {
        ("perfect", "mnist"),
        ("diff", "mnist"),
        ("perfect", "fashion_mnist"),
        ("custom:my_cnn", "mnist"),  # tutorial 06's model of one's own
    }
    # The reference recipe, but for the short decoders of tutorial 05's randomisation test.
    short = [e for e in entries if "randomised_from" in e.get("context", {})]
    assert len(short) == 5 and all(e["fields"]["epochs"] == 3 for e in short)
    recipe = [e for e in entries if e not in short]
    assert all(e["fields"]["epochs"] == 10 and e["fields"]["batch_size"] == 32 for e in recipe)


def test_the_bundle_weighs_at_most_40_mb():
    size = sum(p.stat().st_size for p in BUNDLE_DIR.rglob("*") if p.is_file())
    assert size <= MAX_BYTES, f"the shipped models weigh {size / 1e6:.1f} MB"


def test_shipped_models_re_measure_as_recorded():
    # One model of each kind keeps this test short; `python -m cladec pretrained
    # verify` re-measures all of them (70 s here).
    entries = PretrainedBundle().manifest["entries"]
    first = {}
    for key, entry in entries.items():
        first.setdefault(entry["fields"]["kind"], key)
    assert verify_bundle(keys=set(first.values()), log=None) == []


def test_verify_prints_each_decoders_diagnostic_and_names_the_collapsed():
    # Two decoders: tutorial 03's one-unit subset (read as one class) and tutorial 01's
    # alpha-0 decoder of the perfect classifier (read right).
    entries = PretrainedBundle().manifest["entries"]

    def pick(test):
        return next(k for k, e in entries.items() if e["fields"]["kind"] == "cladec" and test(e))

    one_unit = pick(lambda e: e["context"].get("unit_indices") == [0] and e["fields"]["alpha"] == 0)
    healthy = pick(
        lambda e: (
            e["context"].get("dataset") == "mnist"
            and e["fields"]["layer"] == "my_dense"
            and e["fields"]["alpha"] == 0.0
            and len(e["context"].get("unit_indices", [])) == 128
            and "randomised_from" not in e["context"]
        )
    )
    lines = []
    assert verify_bundle(keys={one_unit, healthy}, log=lines.append) == []
    diagnostics = [line for line in lines if "MSE/pixel" in line]
    assert len(diagnostics) == 2, lines
    collapsed = [line for line in diagnostics if line.endswith("COLLAPSED")]
    assert (
        len(collapsed) == 1 and "units [0]" in collapsed[0] and "class means 0.05" in collapsed[0]
    )
    assert any("1 shipped decoder(s) COLLAPSED" in line for line in lines)

"""The pretrained models shipped in cladec/pretrained: complete, intact, small, and re-measurable."""

from __future__ import annotations

import json

from cladec._atomic import sha256_file
from cladec.bundle import verify_bundle
from cladec.store import BUNDLE_DIR, PretrainedBundle

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

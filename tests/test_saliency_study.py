"""``python -m cladec saliency`` on a few digits, from the shipped models alone."""

from __future__ import annotations

import pytest

from cladec.cli.main import main
from cladec.config import models_dir
from cladec.store import ModelStore
from cladec.studies.saliency_study import FAITHFULNESS_FILE, RANDOMISATION_FILE, read_study_csv


@pytest.fixture
def shipped_only(tmp_path, monkeypatch):
    monkeypatch.setenv("CLADEC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLADEC_TRAIN", "never")
    monkeypatch.setenv("CLADEC_PRETRAINED", "1")
    yield tmp_path
    assert not ModelStore(models_dir(tmp_path / "home")).entries(), "a model trained"


def test_the_study_writes_both_tables_and_their_figures(shipped_only, capsys, monkeypatch):
    monkeypatch.chdir(shipped_only)
    argv = ["saliency", "--datasets", "mnist", "--digits", "12", "--sanity-digits", "6"]
    assert main([*argv, "--out", "study"]) == 0
    out = shipped_only / "study"
    printed = capsys.readouterr().out
    for name in (
        FAITHFULNESS_FILE,
        RANDOMISATION_FILE,
        "faithfulness-mnist.png",
        "randomisation.png",
    ):
        assert (out / name).is_file() and f"wrote study/{name}" in printed
    provenance, rows = read_study_csv(out / FAITHFULNESS_FILE)
    assert provenance["command"].startswith("python -m cladec saliency --datasets mnist")
    assert "--out study" in provenance["command"] and str(shipped_only) not in provenance["command"]
    methods = {r["method"] for r in rows}
    assert {"gradient", "smoothgrad", "integrated_gradients", "gradcam", "ink", "random"} <= methods
    assert {"cladec_magnitude", "cladec_reconstruction", "cladec_predictions_magnitude"} <= methods
    assert all(r["n"] == "12" and 0 <= r["area"] <= 1 for r in rows)
    _, stages = read_study_csv(out / RANDOMISATION_FILE)
    assert [r["stage"] for r in stages if r["method"] == "cladec"] == [
        "trained", "+scores", "+my_dense", "+conv2", "+conv1"
    ]  # fmt: skip
    assert all(r["mean_rank_correlation"] == pytest.approx(1.0) for r in stages[:1])

"""``python -m cladec targets``: both targets of eq. 1, measured on the misread test digits."""

from __future__ import annotations

import pytest

from cladec.cli.main import main
from cladec.studies.target_study import FIELDS, TARGETS_FILE, read_targets_csv

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)


def test_the_study_measures_refae_and_both_targets(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["targets", "--datasets", "mnist", "--alphas", "0.99", "--profile", "quick", "--quiet"]
    assert main([*argv, "--out", "study"]) == 0
    assert f"wrote study/{TARGETS_FILE}" in capsys.readouterr().out
    provenance, rows = read_targets_csv(tmp_path / "study" / TARGETS_FILE)
    assert provenance["command"] == (
        "python -m cladec targets --datasets mnist --alphas 0.99 --out study"
    )
    assert provenance["eval_epochs"] == "1" and "quick" in provenance["profile"]
    assert [(r["model"], r["target"], r["alpha"]) for r in rows] == [
        ("refAE", "", None),
        ("cladec", "labels", 0.0),
        ("cladec", "labels", 0.99),
        ("cladec", "predictions", 0.99),
    ]
    # every model is read on the same misread test digits
    assert len({r["n_misread"] for r in rows}) == 1 and rows[0]["n_misread"] > 0
    for r in rows:
        assert 0 <= r["as_predicted"] <= 1 and 0 <= r["as_true"] <= 1
        # a reconstruction read as the (wrong) prediction is not read as the true class
        assert r["as_predicted"] + r["as_true"] <= 1 + 1e-9
        assert 0 < r["evaluation_accuracy"] <= 1 and 0 < r["fidelity"] <= 1
        assert r["reconstruction_loss"] > 0
    # the two targets are two decoders, not one model read twice
    labels, predictions = rows[2], rows[3]
    assert labels["reconstruction_loss"] != predictions["reconstruction_loss"]


def test_alpha_zero_alone_is_refused_with_what_is_accepted(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["targets", "--alphas", "0", "--profile", "quick", "--out", "study"]) == 1
    error = capsys.readouterr().err
    assert "alphas [0.0] are not accepted" in error and "(0, 1]" in error
    assert not (tmp_path / "study" / TARGETS_FILE).exists()


def test_a_file_without_the_study_columns_is_named(tmp_path):
    path = tmp_path / TARGETS_FILE
    path.write_text("# cladec: 1\ndataset,model\nmnist,refAE\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a targets file.*'layer'"):
        read_targets_csv(path)
    assert FIELDS[0] == "dataset"

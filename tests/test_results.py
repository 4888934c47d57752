"""Tests of cladec.studies.results: scoring explainers into rows, the rows' CSV files, provenance."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from _fakes import FakeExplainer, example_rows

from cladec import metrics
from cladec.store import ModelStore
from cladec.studies import results
from cladec.studies.rows import EvaluationRow

PACKAGE = Path(__file__).resolve().parents[1] / "cladec"


# ---------------------------------------------------------------------------
# evaluate_explainers (real data, model store)
# ---------------------------------------------------------------------------


def test_evaluate_explainers_rows(diff_classifier, mnist_small, tmp_path):
    clf = diff_classifier
    identity = FakeExplainer(clf, lambda im: im)
    blank = FakeExplainer(clf, lambda im: np.zeros_like(im), alpha=0.99)
    rows = results.evaluate_explainers(
        clf,
        mnist_small,
        identity,
        {0.99: blank},
        evaluate_accuracy=True,
        eval_epochs=1,
        recalibrate_batchnorm=True,
        cache=ModelStore(tmp_path),
        verbose=0,
    )
    assert [(r.model, r.alpha) for r in rows] == [
        ("classifier", None),
        ("refAE", None),
        ("cladec", 0.99),
    ]
    assert all(r.dataset == "mnist" and r.layer == "my_dense" for r in rows)
    clf_row, ref_row, blank_row = rows
    assert clf_row.total_loss == clf_row.classification_loss
    assert clf_row.reconstruction_loss is None
    assert ref_row.reconstruction_loss == 0.0 and ref_row.total_loss == 0.0
    assert ref_row.agreement == 1.0
    assert ref_row.accuracy_on_reconstructions == pytest.approx(clf_row.evaluation_accuracy)
    expected = metrics.loss_terms(blank, mnist_small.x_test, mnist_small.y_test)
    assert blank_row.reconstruction_loss == pytest.approx(expected["reconstruction_loss"])
    assert blank_row.total_loss == pytest.approx(expected["total_loss"])
    # Blank images carry no class information; originals do.
    assert blank_row.evaluation_accuracy < 0.3 < ref_row.evaluation_accuracy
    assert all(r.eval_epochs == 1 and r.eval_from_cache is False for r in rows[1:])
    assert all(r.n_test == 300 for r in rows)


def test_evaluate_explainers_without_accuracy_and_mixed_layers(diff_classifier, mnist_small):
    clf = diff_classifier
    a = FakeExplainer(clf, lambda im: im, alpha=0.0)
    blurry = FakeExplainer(clf, lambda im: 0.5 * im + 0.25, alpha=0.5)
    data = (None, None, mnist_small.x_test, mnist_small.y_test)
    rows = results.evaluate_explainers(
        clf, data, None, {0.0: a, 0.5: blurry}, dataset="mnist", evaluate_accuracy=False, verbose=0
    )
    assert [(r.model, r.alpha) for r in rows] == [
        ("classifier", None),
        ("cladec", 0.0),
        ("cladec", 0.5),
    ]
    assert rows[1].evaluation_accuracy is None and rows[1].agreement == 1.0
    expected = metrics.loss_terms(blurry, mnist_small.x_test, mnist_small.y_test)
    assert rows[2].reconstruction_loss == pytest.approx(expected["reconstruction_loss"])
    assert rows[2].total_loss == pytest.approx(expected["total_loss"])
    assert rows[2].classification_loss == pytest.approx(expected["classification_loss"])
    b = FakeExplainer(clf, lambda im: im, layer_name="my_conv")
    with pytest.raises(ValueError, match="different layers"):
        results.evaluate_explainers(
            clf, mnist_small, b, {0.0: a}, evaluate_accuracy=False, verbose=0
        )


# ---------------------------------------------------------------------------
# Rows and CSV files
# ---------------------------------------------------------------------------


def test_rows_csv_round_trip(tmp_path):
    rows = example_rows() + example_rows("fashion_mnist", "my_conv")
    rows[-1].evaluation_accuracy = None
    path = results.write_rows_csv(
        rows, tmp_path / "out" / "rows.csv", provenance={"profile": "quick"}
    )
    assert path.is_file()
    back, meta = results.read_rows_csv(path, provenance=True)
    assert back == rows
    assert meta == {"profile": "quick"}
    assert results.read_rows_csv(path) == rows
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic write leaves no temporaries


def test_evaluation_row_validation():
    with pytest.raises(ValueError, match="alpha"):
        EvaluationRow("mnist", "my_dense", "cladec")
    with pytest.raises(ValueError, match="no alpha"):
        EvaluationRow("mnist", "my_dense", "refAE", 0.5)
    with pytest.raises(ValueError, match="model must be"):
        EvaluationRow("mnist", "my_dense", "autoencoder")
    assert EvaluationRow("mnist", "my_dense", "cladec", 0.99).label == "alpha = 0.99"


def test_run_provenance_lines_round_trip(tmp_path):
    meta = results.run_provenance("quick", seed=0, command="python -m cladec evaluate")
    assert meta["profile"].startswith("profile 'quick'")
    assert meta["seed"] == "0" and "keras" in meta and "created" in meta
    assert list(meta)[:8] == [
        *("cladec", "keras", "tensorflow", "numpy", "python", "machine", "profile", "created")
    ]
    rows = example_rows()
    path = results.write_rows_csv(rows, tmp_path / "rows.csv", meta)
    back, back_meta = results.read_rows_csv(path, provenance=True)
    assert back == rows and back_meta == meta


def test_read_rows_csv_refuses_other_files(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a rows CSV"):
        results.read_rows_csv(other)


# ---------------------------------------------------------------------------
# Data flow: metrics -> results -> reference, never back
# ---------------------------------------------------------------------------


def _local_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
    return found


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        # within the studies: results -> reference -> claims -> reproduce, never back
        # (tests/test_layout.py checks that no layer imports one above it)
        ("studies/results", {"reference", "claims", "reproduce"}),
        ("studies/rows", {"results", "reference", "claims", "reproduce"}),
        ("studies/reference", {"claims", "reproduce"}),
    ],
)
def test_evaluation_modules_import_one_way(module, forbidden):
    assert not _local_imports(module) & forbidden
    assert not (PACKAGE / "evaluation.py").exists()  # split, with no compatibility shim

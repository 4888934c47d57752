"""Tests of cladec.studies.reference: the reference layout, its CSV files, the comparison with it."""

from __future__ import annotations

from importlib import resources

import pytest
from _fakes import example_rows

from cladec.studies import reference, results
from cladec.studies.rows import EvaluationRow

REFERENCE_HEADERS = [" 0", " 1", " 5", "10", "25", "50", "99", "99.9", "99.99", "100"]


def test_alpha_headers_match_the_reference():
    assert [reference.alpha_header(a) for a in reference.ALPHA_GRID] == REFERENCE_HEADERS
    assert [reference.header_alpha(h) for h in REFERENCE_HEADERS] == list(reference.ALPHA_GRID)
    assert reference.header_alpha("refAE") is None


def test_reference_layout_conventions_and_round_trip(tmp_path):
    rows = example_rows() + example_rows("fashion_mnist", "my_conv")
    table = reference.reference_layout(rows)
    assert len(table) == 8
    assert list(table[0]) == ["dataset", "layer", "eval", "classifier", "refAE", " 0", "50", "99.9"]
    by_eval = {r["eval"]: r for r in table[:4]}
    assert [r["eval"] for r in table[:4]] == list(reference.EVAL_METRICS)
    assert by_eval["reconstruction_loss"]["classifier"] is None
    assert by_eval["classification_loss"]["refAE"] is None
    assert by_eval["total_loss"]["refAE"] == by_eval["reconstruction_loss"]["refAE"] == 3.1
    assert by_eval["total_loss"]["classifier"] == 0.04
    assert by_eval["classification_loss"]["classifier"] == 0.04
    assert by_eval["evaluation_accuracy"]["classifier"] == 0.99
    assert by_eval["total_loss"]["50"] == pytest.approx(0.5 * 30.0 + 0.5 * 0.05)

    path = reference.write_reference_csv(
        rows, tmp_path / "ours.csv", {"profile": "quick", "seed": 0}
    )
    text = path.read_text()
    assert text.startswith(
        "# profile: quick\n# seed: 0\n,dataset,layer,eval,classifier,refAE, 0,50,99.9\n"
    )
    assert "\n0,mnist,my_dense,total_loss," in text
    back, meta = reference.read_reference_csv(path, provenance=True)
    assert back == table and meta == {"profile": "quick", "seed": "0"}
    assert reference.rows_from_reference(back)[2] == EvaluationRow(
        "mnist", "my_dense", "cladec", 0.0, 20.0, 0.1, 20.0, 0.98
    )
    full_grid = reference.reference_layout(rows, alphas=reference.ALPHA_GRID)
    assert list(full_grid[0])[5:] == REFERENCE_HEADERS
    assert full_grid[0][" 1"] is None


def test_reference_layout_refuses_duplicates():
    rows = example_rows()
    with pytest.raises(ValueError, match="two rows"):
        reference.reference_layout(rows + rows[-1:])


def test_shipped_reference_is_reproduced_by_our_writer(tmp_path):
    table = reference.load_reference_table()
    assert len(table) == 16
    assert list(table[0])[5:] == REFERENCE_HEADERS
    mnist_dense_acc = next(
        r
        for r in table
        if r["dataset"] == "mnist"
        and r["layer"] == "my_dense"
        and r["eval"] == "evaluation_accuracy"
    )
    assert mnist_dense_acc["classifier"] == pytest.approx(0.9903)
    assert mnist_dense_acc["refAE"] == pytest.approx(0.9871)
    assert mnist_dense_acc["99"] == pytest.approx(0.9861)

    rows = reference.rows_from_reference(table)
    assert len(rows) == 4 * (2 + 10)
    path = reference.write_reference_csv(rows, tmp_path / "again.csv")
    shipped = resources.files("cladec").joinpath("reference", "seed_evaluation_result.csv")
    shipped = shipped.read_text()
    assert path.read_text() == shipped
    with_meta = reference.write_reference_csv(rows, tmp_path / "meta.csv", {"source": "reference"})
    assert reference.read_reference_csv(with_meta) == table


def test_read_reference_csv_refuses_other_files(tmp_path):
    path = results.write_rows_csv(example_rows(), tmp_path / "rows.csv")
    with pytest.raises(ValueError, match="reference layout"):
        reference.read_reference_csv(path)


def test_compare_with_reference_flags_cells(tmp_path):
    table = reference.load_reference_table()
    ours = reference.rows_from_reference(table)
    mnist_dense = [r for r in ours if r.dataset == "mnist" and r.layer == "my_dense"]
    ref_ae = next(r for r in mnist_dense if r.model == "refAE")
    half = next(r for r in mnist_dense if r.alpha == 0.5)
    zero = next(r for r in mnist_dense if r.alpha == 0.0)
    ref_ae.evaluation_accuracy -= 0.02  # outside 0.01
    half.evaluation_accuracy += 0.005  # inside
    zero.reconstruction_loss *= 1.10  # inside 15 %
    ref_ae.reconstruction_loss *= 1.30  # outside 15 %
    better = next(r for r in mnist_dense if r.alpha == 0.99)
    better.reconstruction_loss *= 0.5  # half the reference's loss: a better reconstruction
    result = reference.compare_with_reference(ours, table)

    def cell(metric, column, dataset="mnist", layer="my_dense"):
        return next(
            r
            for r in result
            if (r["dataset"], r["layer"], r["eval"], r["column"])
            == (dataset, layer, metric, column)
        )

    assert cell("evaluation_accuracy", "refAE")["within_tolerance"] is False
    assert cell("evaluation_accuracy", "refAE")["difference"] == pytest.approx(-0.02)
    assert cell("evaluation_accuracy", "50")["within_tolerance"] is True
    assert cell("reconstruction_loss", "0")["within_tolerance"] is True
    assert cell("reconstruction_loss", "refAE")["within_tolerance"] is False
    assert cell("reconstruction_loss", "99")["within_tolerance"] is True  # lower is better
    assert cell("reconstruction_loss", "99.9")["within_tolerance"] is None
    assert cell("classification_loss", "50")["within_tolerance"] is None
    assert cell("total_loss", "50")["within_tolerance"] is None
    assert cell("evaluation_accuracy", "classifier")["within_tolerance"] is True
    assert "0.01" in cell("evaluation_accuracy", "refAE")["rule"]
    assert cell("evaluation_accuracy", "99.9")["alpha"] == 0.999
    untouched = [r for r in result if r["dataset"] == "fashion_mnist"]
    assert untouched and all(r["within_tolerance"] in (True, None) for r in untouched)

    path = reference.write_comparison_csv(result, tmp_path / "cmp.csv", {"profile": "full"})
    lines = path.read_text().splitlines()
    assert lines[0] == "# profile: full"
    assert lines[1].split(",")[:4] == ["dataset", "layer", "eval", "column"]
    assert len(lines) == 2 + len(result)


def test_compare_skips_what_we_did_not_compute():
    ours = example_rows(alphas=(0.0, 0.5))  # mnist my_dense only, two alphas
    result = reference.compare_with_reference(ours)
    assert {(r["dataset"], r["layer"]) for r in result} == {("mnist", "my_dense")}
    assert {r["column"] for r in result} == {"classifier", "refAE", "0", "50"}


def test_layout_cell_applies_the_reference_conventions():
    clf, ref, zero = example_rows(alphas=(0.0,))
    assert reference.layout_cell(clf, "reconstruction_loss") is None
    assert reference.layout_cell(clf, "total_loss") == reference.layout_cell(
        clf, "classification_loss"
    )
    assert reference.layout_cell(clf, "evaluation_accuracy") == 0.99
    assert reference.layout_cell(ref, "classification_loss") is None  # 0.2 in the row
    assert reference.layout_cell(ref, "total_loss") == ref.reconstruction_loss == 3.1
    assert reference.layout_cell(zero, "classification_loss") == zero.classification_loss
    assert reference.layout_cell(None, "total_loss") is None
    with pytest.raises(ValueError, match="'agreement'.*accepted: total_loss"):
        reference.layout_cell(zero, "agreement")


def test_as_rows_reads_every_form(tmp_path):
    rows = example_rows()
    rows_csv = results.write_rows_csv(rows, tmp_path / "rows.csv")
    layout_csv = reference.write_reference_csv(rows, tmp_path / "layout.csv")
    assert reference.as_rows(rows) == rows
    assert reference.as_rows(rows_csv) == rows
    assert reference.as_rows(str(rows_csv)) == rows
    from_layout = reference.as_rows(layout_csv)
    assert from_layout == reference.rows_from_reference(reference.reference_layout(rows))
    assert [r.reconstruction_loss for r in from_layout] == [r.reconstruction_loss for r in rows]
    assert len(reference.as_rows(reference.load_reference_table())) == 4 * (2 + 10)
    with pytest.raises(ValueError, match="expected EvaluationRow objects"):
        reference.as_rows([1, 2, 3])

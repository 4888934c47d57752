"""The checks of the reference evaluation's claims (:mod:`cladec.studies.claims`)."""

from __future__ import annotations

import dataclasses

import pytest

from cladec.studies.claims import CLAIMS, check_claims, claims_report
from cladec.studies.reference import load_reference_table, rows_from_reference
from cladec.studies.rows import EvaluationRow, write_rows_csv

PAIRS = [
    ("fashion_mnist", "my_dense"),
    ("fashion_mnist", "my_conv"),
    ("mnist", "my_dense"),
    ("mnist", "my_conv"),
]


def _verdicts(checks, key):
    return {(c.dataset, c.layer): c.verdict for c in checks if c.key == key}


def test_the_reference_table_supports_its_loss_claims():
    checks = check_claims(load_reference_table())
    assert len(checks) == len(CLAIMS) * len(PAIRS)
    for key in CLAIMS:
        if key == "cladec_keeps_class_information":
            continue
        assert set(_verdicts(checks, key).values()) == {"holds"}, key


def test_class_information_claim_is_clear_only_on_fashion_dense():
    # The reference's own numbers: +0.025 on Fashion-MNIST dense; elsewhere the
    # differences are smaller than two standard errors of a 10,000-image test.
    verdicts = _verdicts(check_claims(load_reference_table()), "cladec_keeps_class_information")
    assert verdicts == {
        ("fashion_mnist", "my_dense"): "holds",
        ("fashion_mnist", "my_conv"): "within noise",
        ("mnist", "my_dense"): "within noise",
        ("mnist", "my_conv"): "within noise",
    }


def _doctored(rows, dataset, layer, model, alpha, **changes):
    out = []
    for row in rows:
        if (row.dataset, row.layer, row.model, row.alpha) == (dataset, layer, model, alpha):
            row = dataclasses.replace(row, **changes)
        out.append(row)
    return out


@pytest.mark.parametrize(
    ("key", "model", "alpha", "changes"),
    [
        ("refae_keeps_more_input", "refAE", None, {"reconstruction_loss": 50.0}),
        ("cladec_keeps_class_information", "cladec", 0.99, {"evaluation_accuracy": 0.85}),
        ("flat_up_to_half", "cladec", 0.25, {"reconstruction_loss": 30.0}),
        ("rises_at_099", "cladec", 0.99, {"reconstruction_loss": 20.0}),
        ("explodes_from_0999", "cladec", 0.999, {"reconstruction_loss": 40.0}),
        ("classification_loss_falls", "cladec", 0.99, {"classification_loss": 0.2}),
    ],
)
def test_each_check_fails_on_a_table_that_contradicts_it(key, model, alpha, changes):
    rows = _doctored(
        rows_from_reference(load_reference_table()), "mnist", "my_dense", model, alpha, **changes
    )
    verdicts = _verdicts(check_claims(rows), key)
    assert verdicts[("mnist", "my_dense")] == "does not hold"
    assert verdicts[("mnist", "my_conv")] != "does not hold"  # the other pairs are untouched


def test_missing_cells_and_pairs_are_not_run(tmp_path):
    rows = [
        EvaluationRow("mnist", "my_dense", "refAE", reconstruction_loss=3.0),
        EvaluationRow("mnist", "my_dense", "cladec", 0.0, reconstruction_loss=20.0),
    ]
    path = write_rows_csv(rows, tmp_path / "rows.csv", {"status": "partial"})
    checks = check_claims(path, pairs=[("mnist", "my_dense"), ("mnist", "my_conv")])
    dense = {c.key: c.verdict for c in checks if c.layer == "my_dense"}
    assert dense["refae_keeps_more_input"] == "holds"
    assert dense["cladec_keeps_class_information"] == "not run"
    assert {c.verdict for c in checks if c.layer == "my_conv"} == {"not run"}
    report = claims_report(checks)
    assert report.count("\n") == len(checks) - 1
    assert "mnist / my_dense: holds: RefAE reconstructs" in report
    assert "RefAE 3 vs ClaDec 20 (6.7 times)" in report

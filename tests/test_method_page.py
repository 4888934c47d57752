"""The numbers that the method page's "Reading ClaDec honestly" quotes, recomputed
from the committed evaluation run: a rerun that moves them fails here until the
prose follows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cladec.results import read_rows_csv

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _section() -> str:
    text = (DOCS / "method.rst").read_text(encoding="utf-8")
    start = text.index("Reading ClaDec honestly\n")
    end = text.index(".. _neuron-subsets:")
    return re.sub(r"\s+", " ", text[start:end])


def _row(pair: str, dataset: str, model: str, alpha=None):
    for row in read_rows_csv(DOCS / "results" / pair / "rows.csv"):
        if row.dataset == dataset and row.model == model and row.alpha == alpha:
            return row
    raise AssertionError(f"no row {dataset}/{model}/{alpha} in {pair}")


@pytest.fixture(scope="module")
def section() -> str:
    return _section()


def test_blur_numbers(section):
    cladec0 = _row("full-dense", "mnist", "cladec", 0.0).reconstruction_loss
    refae = _row("full-dense", "mnist", "refAE").reconstruction_loss
    assert f"SSE of {cladec0:.1f} where RefAE reaches {refae:.1f}" in section
    assert cladec0 > 3 * refae  # "keep less of the image"


def test_high_alpha_numbers(section):
    one = _row("full-dense", "mnist", "cladec", 1.0)
    refae = _row("full-dense", "mnist", "refAE").reconstruction_loss
    ratio = one.reconstruction_loss / refae
    assert f"SSE of {one.reconstruction_loss:.1f}, {ratio:.0f} times RefAE's" in section
    assert f"reads {one.accuracy_on_reconstructions * 100:.1f} % of them" in section
    assert one.accuracy_on_reconstructions > 0.95


def test_circular_fidelity_numbers(section):
    at0 = _row("full-dense", "fashion_mnist", "cladec", 0.0)
    at99 = _row("full-dense", "fashion_mnist", "cladec", 0.99)
    clf = _row("full-dense", "fashion_mnist", "classifier")
    assert (
        f"climbs from {at0.accuracy_on_reconstructions:.3f} at alpha = 0 to "
        f"{at99.accuracy_on_reconstructions:.3f} at 0.99, above the classifier's own "
        f"{clf.evaluation_accuracy:.3f}" in section
    )
    assert at99.accuracy_on_reconstructions > clf.evaluation_accuracy
    assert f"{at0.evaluation_accuracy:.3f} and {at99.evaluation_accuracy:.3f} there" in section


def test_overcomplete_conv_numbers(section):
    conv = _row("full-conv-mnist", "mnist", "cladec", 0.0).reconstruction_loss
    dense = _row("full-dense", "mnist", "cladec", 0.0).reconstruction_loss
    assert f"SSE of {conv:.1f} (``my_dense``: {dense:.1f})" in section
    assert conv < dense / 5

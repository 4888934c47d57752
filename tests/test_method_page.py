"""The numbers that the method page's "Reading ClaDec honestly" quotes, recomputed
from the committed evaluation run the results page shows: a rerun that moves them fails here until the
prose follows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _results_runs import page_rows

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _section() -> str:
    text = (DOCS / "method.rst").read_text(encoding="utf-8")
    start = text.index("Reading ClaDec honestly\n")
    end = text.index(".. _neuron-subsets:")
    return re.sub(r"\s+", " ", text[start:end])


def _row(layer: str, dataset: str, model: str, alpha=None):
    """A row as the results page shows it."""
    for row in page_rows()[0]:
        if (row.dataset, row.layer, row.model, row.alpha) == (dataset, layer, model, alpha):
            return row
    raise AssertionError(f"no row {dataset}/{layer}/{model}/{alpha} on the results page")


@pytest.fixture(scope="module")
def section() -> str:
    return _section()


def test_blur_numbers(section):
    cladec0 = _row("my_dense", "mnist", "cladec", 0.0).reconstruction_loss
    refae = _row("my_dense", "mnist", "refAE").reconstruction_loss
    assert f"SSE of {cladec0:.1f} where RefAE reaches {refae:.1f}" in section
    assert cladec0 > 3 * refae  # "keep less of the image"


def test_high_alpha_numbers(section):
    one = _row("my_dense", "mnist", "cladec", 1.0)
    refae = _row("my_dense", "mnist", "refAE").reconstruction_loss
    ratio = one.reconstruction_loss / refae
    assert f"SSE of {one.reconstruction_loss:.1f}, {ratio:.0f} times RefAE's" in section
    assert f"reads {one.accuracy_on_reconstructions * 100:.1f} % of them" in section
    assert one.accuracy_on_reconstructions > 0.95


def test_circular_fidelity_numbers(section):
    at0 = _row("my_dense", "fashion_mnist", "cladec", 0.0)
    at99 = _row("my_dense", "fashion_mnist", "cladec", 0.99)
    clf = _row("my_dense", "fashion_mnist", "classifier")
    assert (
        f"climbs from {at0.accuracy_on_reconstructions:.3f} at alpha = 0 to "
        f"{at99.accuracy_on_reconstructions:.3f} at 0.99, as high to within 0.002 as the "
        f"classifier's own "
        f"{clf.evaluation_accuracy:.3f}" in section
    )
    assert abs(at99.accuracy_on_reconstructions - clf.evaluation_accuracy) < 0.002
    assert f"{at0.evaluation_accuracy:.3f} and {at99.evaluation_accuracy:.3f} there" in section


def test_overcomplete_conv_numbers(section):
    conv = _row("my_conv", "mnist", "cladec", 0.0).reconstruction_loss
    dense = _row("my_dense", "mnist", "cladec", 0.0).reconstruction_loss
    assert f"SSE of {conv:.1f} (``my_dense``: {dense:.1f})" in section
    assert conv < dense / 5


# -- "Which labels eq. 1 uses": the committed targets study ---------------------


def _targets() -> dict:
    from cladec.studies.target_study import read_targets_csv

    _, rows = read_targets_csv(DOCS / "results" / "targets" / "targets.csv")
    return {(r["dataset"], r["model"], r["target"], r["alpha"]): r for r in rows}


def _which_labels() -> str:
    text = (DOCS / "method.rst").read_text(encoding="utf-8")
    start = text.index(".. _which-labels:")
    return re.sub(r"\s+", " ", text[start : text.index("**Faithfulness**", start)])


def _pct(value) -> str:
    return f"{100 * value:.1f} %"


def test_fashion_prediction_target_shows_the_mistake_at_every_alpha():
    t, text = _targets(), _which_labels()
    for alpha in (0.5, 0.99, 0.999):
        own = t[("fashion_mnist", "cladec", "predictions", alpha)]
        labels = t[("fashion_mnist", "cladec", "labels", alpha)]
        assert own["as_predicted"] > labels["as_predicted"] + 0.05, alpha
        assert own["as_true"] < labels["as_true"], alpha
        assert own["reconstruction_loss"] <= labels["reconstruction_loss"] * 1.01, alpha
        assert abs(own["evaluation_accuracy"] - labels["evaluation_accuracy"]) < 0.003, alpha
        assert f"{_pct(own['as_predicted'])} against {_pct(labels['as_predicted'])}" in text
    own = t[("fashion_mnist", "cladec", "predictions", 0.99)]
    labels = t[("fashion_mnist", "cladec", "labels", 0.99)]
    assert f"{_pct(own['as_true'])} against {_pct(labels['as_true'])} at 0.99" in text
    assert own["n_misread"] == 767 and "767 misread" in text


def test_mnist_targets_differ_in_both_directions_on_85_digits():
    t, text = _targets(), _which_labels()
    diff = {
        a: t[("mnist", "cladec", "predictions", a)]["as_predicted"]
        - t[("mnist", "cladec", "labels", a)]["as_predicted"]
        for a in (0.5, 0.99, 0.999)
    }
    assert diff[0.99] > 0.05 and diff[0.5] < -0.05  # "at 0.5 the order is reversed"
    assert f"by {100 * abs(diff[0.999]):.1f} points" in text
    assert t[("mnist", "refAE", "", None)]["n_misread"] == 85 and "85 misread digits" in text

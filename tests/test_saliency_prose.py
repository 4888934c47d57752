"""The results page's saliency readings quote the numbers its tables show, formatted as shown."""

from __future__ import annotations

import re
from pathlib import Path

from cladec.studies.saliency_study import read_study_csv

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = re.sub(r"\s+", " ", (DOCS / "results.rst").read_text(encoding="utf-8"))


def _area(rows, dataset, method, mode) -> str:
    [row] = [r for r in rows if (r["dataset"], r["method"], r["mode"]) == (dataset, method, mode)]
    return f"{row['area']:.4f}"  # as the cladec-saliency table prints it


def test_the_fashion_mnist_faithfulness_reading_quotes_the_table():
    _, rows = read_study_csv(DOCS / "results" / "saliency" / "faithfulness.csv")
    cells = {
        (mode, method): _area(rows, "fashion_mnist", method, mode)
        for mode in ("deletion", "insertion")
        for method in ("cladec_magnitude", "integrated_gradients")
    }
    expected = (
        f"Fashion-MNIST (deletion {cells['deletion', 'cladec_magnitude']} against "
        f"{cells['deletion', 'integrated_gradients']}, insertion "
        f"{cells['insertion', 'cladec_magnitude']} against {cells['insertion', 'integrated_gradients']},"
    )
    assert expected in PAGE


def test_the_mnist_deletion_reading_quotes_the_table():
    _, rows = read_study_csv(DOCS / "results" / "saliency" / "faithfulness.csv")
    ig, ink = (_area(rows, "mnist", m, "deletion") for m in ("integrated_gradients", "ink"))
    assert f"deletion, on MNIST ({ig} against {ink})." in PAGE


def test_the_randomisation_reading_quotes_the_stages_accuracies():
    _, rows = read_study_csv(DOCS / "results" / "saliency" / "randomisation.csv")
    broken = [r["accuracy"] for r in rows if r["stage"] != "trained"]
    expected = f"(accuracy {min(broken):.3f} to {max(broken):.3f} on these digits)"
    assert expected in PAGE

"""The rows the results page shows: its ``cladec-results-runs``, merged as the page merges them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"

sys.path.insert(0, str(DOCS / "_ext"))
from cladec_results import _merge_runs  # noqa: E402


def results_page() -> str:
    return (DOCS / "results.rst").read_text(encoding="utf-8")


def page_runs(page: str) -> list[Path]:
    match = re.search(r"^\.\. cladec-results-runs::((?:.*\n)(?:   .*\n)*)", page, re.M)
    assert match, "the results page names its runs with cladec-results-runs"
    return [DOCS / name for name in match.group(1).split()]


def page_rows(page: str | None = None):
    """(rows, {pair: the rows.csv it comes from}) of the results page."""
    runs = [(str(path), path) for path in page_runs(page or results_page())]
    rows, _, sources = _merge_runs(runs)
    return rows, sources

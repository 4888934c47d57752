"""The numbers the results page's prose quotes, recomputed from the runs the page shows.

Each pair's section says, in words, what its table shows: the RefAE's loss,
the decoders' losses at alpha 0 and 0.99, the explosion above 0.99, the spread
of the evaluation accuracies and ClaDec's margin over the RefAE. The phrases
below are built from the committed rows; a rerun that moves a number fails
here until the prose follows. Only the pairs of the settled-recipe run
(``docs/results/full``) are held to it.
"""

from __future__ import annotations

import re

import pytest
from _results_runs import DOCS, page_rows, page_runs, results_page

from cladec.studies.reference import load_reference_table, rows_from_reference

SETTLED_RUN = DOCS / "results" / "full" / "rows.csv"


def _section(page: str, pair: tuple[str, str]) -> str:
    label = f".. _results-{pair[0]}-{pair[1]}:"
    start = page.index(label)
    ends = [
        page.find(mark, start + len(label)) for mark in (".. _results-", "\nThe claims, checked")
    ]
    end = min(e for e in ends if e > 0)
    return re.sub(r"\s+", " ", page[start:end])


def _find(rows, pair, model, alpha=None):
    for row in rows:
        if (row.dataset, row.layer, row.model, row.alpha) == (*pair, model, alpha):
            return row
    raise AssertionError(f"no row {pair} {model} {alpha}")


def _loss(value: float) -> str:
    return format(value, ".3g")


def pair_phrases(rows, pair) -> list[str]:
    """The phrases a pair's section must contain, from its rows and the reference's."""
    reference = rows_from_reference(load_reference_table())

    def both(model, alpha=None):
        return _find(rows, pair, model, alpha), _find(reference, pair, model, alpha)

    refae, refae_ref = both("refAE")
    at0, at0_ref = both("cladec", 0.0)
    at99, at99_ref = both("cladec", 0.99)
    high = [both("cladec", a) for a in (0.999, 0.9999, 1.0)]
    ours_high = ", ".join(_loss(o.reconstruction_loss) for o, _ in high[:2])
    theirs_high = ", ".join(_loss(r.reconstruction_loss) for _, r in high[:2])
    differences = [
        row.evaluation_accuracy - _find(reference, pair, row.model, row.alpha).evaluation_accuracy
        for row in rows
        if (row.dataset, row.layer) == pair and row.model != "classifier"
    ]
    margin = at99.evaluation_accuracy - refae.evaluation_accuracy
    margin_ref = at99_ref.evaluation_accuracy - refae_ref.evaluation_accuracy
    return [
        f"RefAE reconstructs with a loss of {_loss(refae.reconstruction_loss)} "
        f"(reference {_loss(refae_ref.reconstruction_loss)})",
        f"{_loss(at0.reconstruction_loss)} against {_loss(at0_ref.reconstruction_loss)} at "
        f"alpha 0 and {_loss(at99.reconstruction_loss)} against "
        f"{_loss(at99_ref.reconstruction_loss)} at 0.99",
        f"{ours_high} and {_loss(high[2][0].reconstruction_loss)} at alpha 0.999, 0.9999 and 1 "
        f"(reference {theirs_high} and {_loss(high[2][1].reconstruction_loss)})",
        f"differ from the reference's by {min(differences):+.4f} to {max(differences):+.4f}",
        f"{at99.evaluation_accuracy:.4f} against the RefAE's {refae.evaluation_accuracy:.4f} "
        f"({margin:+.4f}; reference {margin_ref:+.4f})",
    ]


def _settled_pairs(page: str):
    rows, sources = page_rows(page)
    return rows, [pair for pair, path in sources.items() if path == SETTLED_RUN]


def _settled_run_complete() -> bool:
    from cladec.studies.rows import read_rows_csv

    _, provenance = read_rows_csv(SETTLED_RUN, provenance=True)
    return provenance.get("status") == "complete"


def test_the_page_shows_the_settled_run():
    page = results_page()
    assert SETTLED_RUN in page_runs(page)
    _, pairs = _settled_pairs(page)
    assert pairs, "no pair of the settled-recipe run reaches the page"


def test_a_complete_run_supersedes_the_earlier_ones():
    if not _settled_run_complete():
        pytest.skip("the settled-recipe run is not complete yet")
    page = results_page()
    assert page_runs(page) == [SETTLED_RUN], "older runs leave the page"
    runs_in_tree = sorted(p.parent.name for p in (DOCS / "results").glob("*/rows.csv"))
    assert runs_in_tree == [SETTLED_RUN.parent.name], "older runs leave the tree"
    assert "earlier run" not in page.lower()


@pytest.mark.parametrize(
    "pair",
    [
        ("mnist", "my_dense"),
        ("mnist", "my_conv"),
        ("fashion_mnist", "my_dense"),
        ("fashion_mnist", "my_conv"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}" if isinstance(p, tuple) else p,
)
def test_pair_prose_quotes_the_run(pair):
    page = results_page()
    rows, settled = _settled_pairs(page)
    if pair not in settled:
        assert not _settled_run_complete(), f"{pair[0]}/{pair[1]} should come from {SETTLED_RUN}"
        pytest.skip(f"{pair[0]}/{pair[1]} is not from the settled-recipe run yet")
    section = _section(page, pair)
    missing = [phrase for phrase in pair_phrases(rows, pair) if phrase not in section]
    assert not missing, f"the {pair[0]} / {pair[1]} section should say: {missing}"


def _claims_prose(page: str) -> str:
    start = page.index(":part: claims")
    return re.sub(r"\s+", " ", page[start : page.index("\nCells outside tolerance, and why")])


_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def test_claims_prose_names_the_pairs_where_the_loss_does_not_fall():
    from cladec.studies.claims import check_claims

    page = results_page()
    rows, _ = page_rows(page)
    prose = _claims_prose(page)
    failing = [
        c
        for c in check_claims(rows)
        if c.key == "classification_loss_falls" and c.verdict != "holds"
    ]
    count = {0: "on every pair", 1: "on every pair but one"}.get(len(failing))
    if count is None:
        pytest.fail(f"{len(failing)} pairs where the loss does not fall: rewrite the prose")
    assert count in prose
    assert failing or "but one" not in prose
    for check in failing:
        pair = (check.dataset, check.layer)
        at0 = _find(rows, pair, "cladec", 0.0).classification_loss
        at99 = _find(rows, pair, "cladec", 0.99).classification_loss
        assert f"On {_TITLES[check.dataset]} ``{check.layer}``" in prose
        assert f"{at0:.3g} at alpha 0 and {at99:.3g} at 0.99" in prose

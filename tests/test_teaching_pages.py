"""The teaching pages in Chromium, and one name for one thing on every page of the built site."""

from __future__ import annotations

import base64
import html
import re

import pytest
from _site_build import DOCS

pytestmark = pytest.mark.browser


def retired_names() -> list[str]:
    """The names the glossary's table "Names used on this site" retires (its last column)."""
    text = (DOCS / "glossary.rst").read_text(encoding="utf-8")
    table = text[text.index("Names used on this site") :]
    rows = re.split(r"\n   \* - ", table)[2:]  # after the header row
    names = []
    for row in rows:
        last = row.split("\n     - ")[-1]
        names += re.findall(r'"([^"]+)"', last)
    return names


def test_the_glossary_table_retires_names():
    names = retired_names()
    assert {"acc. on x̂", "agree", "eval. acc.", "α", "alpha 99 %"} <= set(names), names


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_no_page_uses_a_retired_name(site):
    patterns = {
        name: re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.I) for name in retired_names()
    }
    found = []
    for path in sorted(site.root.rglob("*.html")):
        rel = path.relative_to(site.root).as_posix()
        if rel in {"glossary.html", "genindex.html", "search.html"} or rel.startswith("_"):
            continue
        text = _visible_text(path.read_text(encoding="utf-8"))
        for name, pattern in patterns.items():
            for match in pattern.finditer(text):
                found.append(
                    f"{rel}: {name!r} in {text[max(0, match.start() - 40) : match.end() + 40]!r}"
                )
    assert not found, "retired names on the site:\n" + "\n".join(found[:20])


def test_the_solutions_start_hidden_and_open_on_a_click(site, browser):
    browser.get(site.url("teaching/exercises.html"))
    dropdowns = browser.find_elements("css selector", "details.sd-dropdown")
    assert len(dropdowns) == 6
    assert not any(d.get_property("open") for d in dropdowns)
    first = dropdowns[0]
    answer = first.find_element("css selector", ".sd-summary-content")
    assert not answer.is_displayed()
    first.find_element("css selector", "summary").click()
    assert first.get_property("open") and answer.is_displayed()
    assert "17.51" in answer.text  # the solution's printed reconstruction loss at alpha 0


@pytest.mark.parametrize("paper", [(8.27, 11.69), (8.5, 11.0)], ids=["A4", "Letter"])
def test_the_lab_sheet_prints_on_one_page(site, browser, paper):
    browser.get(site.url("teaching/lab-sheet.html"))
    width, height = paper
    pdf = browser.execute_cdp_cmd(
        "Page.printToPDF", {"paperWidth": width, "paperHeight": height, "printBackground": False}
    )
    data = base64.b64decode(pdf["data"])
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages == 1, f"the lab sheet prints on {pages} pages"


def test_the_lab_plan_adds_up_to_90_minutes(site):
    text = _visible_text((site.root / "teaching" / "lab.html").read_text(encoding="utf-8"))
    spans = re.findall(r"(\d+):(\d\d)\s*[–-]\s*(\d+):(\d\d)", text)
    assert spans, "the lab plan gives no time spans"
    minutes = [(int(h) * 60 + int(m), int(h2) * 60 + int(m2)) for h, m, h2, m2 in spans]
    assert minutes[0][0] == 0 and minutes[-1][1] == 90
    assert all(a[1] == b[0] for a, b in zip(minutes, minutes[1:])), minutes

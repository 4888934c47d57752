"""Every tutorial fits a lesson: three takeaways on top, short objectives, at most 1,000 words.

The prose is what a reader reads on the page: the script's docstring and its
text cells, without the collapsed "more detail" blocks (``.. dropdown::``).
A takeaway's number is one the tutorial prints: the decimal it states is
checked against the built page by ``test_site.py``'s
``test_every_number_a_tutorial_states_is_one_it_prints``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "gallery"
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))
MAX_WORDS = 1000
MAX_MINUTES = 5
_DROPDOWN = re.compile(r"^(?P<indent>[ \t]*)\.\. dropdown::")


def _text_blocks(source: str) -> list[str]:
    """The docstring, then each ``# %%`` cell's comment lines, as reST."""
    blocks = [ast.get_docstring(ast.parse(source)) or ""]
    lines, current = source.splitlines(), None
    for line in lines:
        if line.startswith("# %%"):
            current = []
            blocks.append(current)
        elif current is not None and (line.startswith("# ") or line == "#"):
            current.append(line[2:])
        else:
            current = None
    return [b if isinstance(b, str) else "\n".join(b) for b in blocks]


def _without_dropdowns(text: str) -> str:
    kept, inside = [], None
    for line in text.splitlines():
        match = _DROPDOWN.match(line)
        if match:
            inside = len(match["indent"])
            continue
        if inside is not None:
            if not line.strip() or len(line) - len(line.lstrip()) > inside:
                continue
            inside = None
        kept.append(line)
    return "\n".join(kept)


def prose_words(path: Path) -> int:
    """Words of prose a reader sees without opening a collapsed block."""
    text = "\n".join(_without_dropdowns(b) for b in _text_blocks(path.read_text()))
    return len(re.findall(r"[\w'’.,%:;()\-–]+", text))


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def _section(text: str, title: str) -> list[str]:
    """The list items right after a bold ``title`` line."""
    start = text.index(f"**{title}**")
    items = []
    for line in text[start:].splitlines()[1:]:
        if re.match(r"^(\d+\.|\*|-) ", line):
            items.append(line)
        elif line.startswith("   ") and items:
            items[-1] += " " + line.strip()
        elif line.strip() and items:
            break
    return items


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_the_prose_stays_under_1000_words(path):
    words = prose_words(path)
    assert words <= MAX_WORDS, f"{path.name}: {words} words of prose (at most {MAX_WORDS})"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_three_takeaways_each_with_a_printed_number(path):
    takeaways = _section(_docstring(path), "Takeaways")
    assert [t.split(".")[0] for t in takeaways] == ["1", "2", "3"], takeaways
    for takeaway in takeaways:
        assert re.search(r"\d+\.\d+", takeaway), f"{path.name}: no measured number in {takeaway!r}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_objectives_are_a_short_list_of_verbs(path):
    objectives = _section(_docstring(path), "You will")
    assert 2 <= len(objectives) <= 6, objectives
    for objective in objectives:
        words = objective.split()[1:]
        assert len(words) <= 14, f"{path.name}: a long objective: {objective!r}"
        assert words[0].islower() and words[0] not in {"the", "a", "an", "how", "what", "why"}, (
            f"{path.name}: an objective starts with a verb: {objective!r}"
        )


def _try_this(path: Path) -> list[str]:
    cells = _text_blocks(path.read_text())
    block = next((c for c in cells if "Try this\n--------" in c), None)
    assert block is not None, f"{path.name} has no 'Try this' section"
    items = []
    for line in block.split("Try this\n--------", 1)[1].splitlines():
        if line.startswith("* "):
            items.append(line)
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


def _minutes(prompt: str) -> float:
    found = re.findall(r"(\d+(?:\.\d+)?)\s*(s|min)\b", prompt)
    assert found, f"no run time in {prompt!r}"
    return max(float(v) / (60 if unit == "s" else 1) for v, unit in found)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_every_try_this_prompt_states_its_time_and_what_to_look_for(path):
    prompts = _try_this(path)
    assert prompts, f"{path.name}: an empty 'Try this'"
    for prompt in prompts:
        assert "look for" in prompt.lower() or ":ref:`exercise" in prompt, (
            f"{path.name}: say what to look for, or link the exercise that answers: {prompt!r}"
        )
        if _minutes(prompt) > MAX_MINUTES:
            assert "shipped" in prompt, (
                f"{path.name}: over {MAX_MINUTES} min without a shipped-model variant: {prompt!r}"
            )


def test_the_counter_skips_collapsed_blocks():
    text = "One two three.\n\n.. dropdown:: More detail\n\n   four five six\n\nseven."
    assert _without_dropdowns(text) == "One two three.\n\nseven."

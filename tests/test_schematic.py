"""The method schematic is drawn from the shipped models, so it cannot contradict their numbers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

import cladec_schematic  # noqa: E402


@pytest.fixture(scope="module")
def values():
    return cladec_schematic.schematic_values("full")


def test_the_schematic_shows_real_reconstructions_and_their_losses(values):
    svg = cladec_schematic.render(values)
    images = re.findall(r'href="data:image/png;base64,[A-Za-z0-9+/=]+"', svg)
    assert len(images) == 5  # the input twice, both reconstructions, their difference
    assert f"SSE {values['cladec_sse']:.1f}" in svg and f"SSE {values['refae_sse']:.1f}" in svg
    # what the captions say: ClaDec's reconstruction is the blurrier one
    assert values["cladec_sse"] > 2 * values["refae_sse"]
    assert "{" not in re.sub(r"<style>.*</style>", "", svg, flags=re.S)  # every field filled


def test_the_schematic_says_which_gradient_passes_through_the_classifier():
    template = cladec_schematic.TEMPLATE.read_text()
    assert "The gradient of L_rec reaches D directly" in template
    assert "that of L_cls flows back through the frozen C first" in template
    assert "both terms flows back" not in template

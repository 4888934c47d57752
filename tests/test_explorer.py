"""The alpha explorer: one self-contained block of HTML with a slider over alphas."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from matplotlib import image as mpl_image

from cladec.exceptions import InvalidInputError
from cladec.explanation import Explanation
from cladec.explorer import AlphaExplorer


@pytest.fixture(scope="module")
def explanation() -> Explanation:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    refae = np.full_like(images, 0.5)
    recs = {a: np.full_like(images, v) for a, v in ((0.0, 0.5), (0.5, 0.25), (0.99, 1.0))}
    return Explanation(images, refae, recs)


def _frames(markup: str) -> dict[str, np.ndarray]:
    found = re.findall(r'data-k="(\d+)"[^>]*src="data:image/png;base64,([^"]+)"', markup)
    return {k: mpl_image.imread(io.BytesIO(base64.b64decode(data))) for k, data in found}


def test_one_picture_per_alpha_and_only_the_start_one_shows(explanation):
    markup = AlphaExplorer(explanation, y_true=[1, 2, 3], y_pred=[1, 2, 4])._repr_html_()
    frames = _frames(markup)
    assert sorted(frames) == ["0", "1", "2"]
    shown = re.findall(r'data-k="(\d+)"[^>]*style="display:block', markup)
    assert shown == ["2"]  # 0.99 when present
    assert 'type="range" min="0" max="2"' in markup
    assert 'data-label1="alpha = 0.5"' in markup
    assert "3 - 4" in markup  # a misread image's title


def test_it_loads_nothing_from_elsewhere(explanation):
    markup = AlphaExplorer(explanation).to_html()
    assert "http" not in markup and "<link" not in markup
    assert re.findall(r'src="([^"]+)"', markup) and all(
        s.startswith("data:image/png;base64,") for s in re.findall(r'src="([^"]+)"', markup)
    )


def test_the_pictures_hold_the_reconstructions(explanation):
    frames = _frames(AlphaExplorer(explanation).to_html())
    strip = frames["1"]  # alpha 0.5: ClaDec 0.25 everywhere, RefAE 0.5
    assert strip.shape[:2] == (4 * 28 + 3 * 2, 3 * 28 + 2 * 2)
    row = lambda r: strip[r * 30 : r * 30 + 28, :28, :3]  # noqa: E731 (first image of row r)
    np.testing.assert_allclose(row(0)[..., 0], explanation.images[0, ..., 0], atol=1 / 255)
    np.testing.assert_allclose(row(1), 0.5, atol=1 / 255)
    np.testing.assert_allclose(row(2), 0.25, atol=1 / 255)
    # ClaDec darker than RefAE: blue, with the scale set by the largest difference (0.5)
    red, _, blue = row(3)[14, 14]
    assert blue > red


def test_bad_input_is_refused_with_what_is_accepted(explanation):
    without = Explanation(explanation.images, None, explanation.reconstructions)
    with pytest.raises(InvalidInputError, match="refae="):
        AlphaExplorer(without)
    with pytest.raises(InvalidInputError, match="2 labels for 3 images"):
        AlphaExplorer(explanation, y_true=[1, 2])
    with pytest.raises(InvalidInputError, match="1 to 8"):
        AlphaExplorer(explanation, scale=0)
    with pytest.raises(InvalidInputError, match="not among the alphas"):
        AlphaExplorer(explanation, start=0.7)


def test_save_writes_a_standalone_page(explanation, tmp_path):
    path = AlphaExplorer(explanation, start=0.0).save(tmp_path / "explorer.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'class="cladec-explorer"' in page
    assert [p.name for p in tmp_path.iterdir()] == ["explorer.html"]

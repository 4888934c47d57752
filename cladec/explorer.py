"""A slider over alphas that draws itself in a notebook and on a web page.

:class:`AlphaExplorer` turns an :class:`~cladec.Explanation` into one
self-contained block of HTML (its ``_repr_html_``): for each alpha a picture
of the originals, RefAE's reconstructions, ClaDec's at that alpha and their
difference, as PNGs inside the page, and a slider that shows one alpha at a
time. It needs no server, no widget extension and no file beside it, so the
same object shows in Jupyter, in Colab, in VS Code and on the tutorial pages
Sphinx-Gallery builds.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib import image as mpl_image

from ._atomic import atomic_file
from .exceptions import InvalidInputError
from .explanation import Explanation
from .plotting import _column_title, _display, _row_label

__all__ = ["AlphaExplorer"]

_IDS = itertools.count()
_GAP = 2  # pixels between two images of the strip, before scaling
_ROWS = ("Original", "RefAE", "ClaDec", "ClaDec - RefAE")

# Show the slider's image, hide the others; plain DOM calls, so it runs wherever
# the notebook's or the page's HTML may run scripts.
_ON_INPUT = (
    "var box=this.closest('.cladec-explorer'),k=this.value;"
    "box.querySelectorAll('img[data-k]').forEach(function(i){"
    "i.style.display=(i.dataset.k===k)?'block':'none';});"
    "box.querySelector('.cladec-explorer-value').textContent=this.dataset['label'+k];"
)


def _png(rgb: np.ndarray) -> str:
    buffer = io.BytesIO()
    mpl_image.imsave(buffer, rgb, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _strip(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of ``(N, H, W, 3)`` images into one RGB picture with white gaps (the page scales it)."""
    n, h, w = rows[0].shape[:3]
    out = np.ones((len(rows) * (h + _GAP) - _GAP, n * (w + _GAP) - _GAP, 3), np.float32)
    for r, images in enumerate(rows):
        for c in range(n):
            y, x = r * (h + _GAP), c * (w + _GAP)
            out[y : y + h, x : x + w] = images[c]
    return out


class AlphaExplorer:
    """ClaDec's reconstructions of some images, one alpha at a time, behind a slider.

    Parameters
    ----------
    explanation : Explanation
        :func:`cladec.explain`'s result, with a RefAE and one reconstruction per alpha.
    y_true, y_pred : array-like or None
        True and predicted classes, for the column titles ("true - predicted"
        for a misread image), as in :mod:`cladec.plotting`.
    class_names : sequence of str or None
        Names of the classes in the titles.
    scale : int
        Screen pixels per image pixel (1 to 8).
    start : key or None
        The alpha shown first; default: 0.99 when present, else the first.

    Raises
    ------
    InvalidInputError
        If the explanation has no RefAE or no reconstruction, a title array has
        the wrong length, ``scale`` is out of range or ``start`` is no key.

    Examples
    --------
    In a notebook, the object shows itself::

        AlphaExplorer(cladec.explain(decoders, refae, images), y_true=labels)
    """

    def __init__(
        self,
        explanation: Explanation,
        *,
        y_true=None,
        y_pred=None,
        class_names: Sequence[str] | None = None,
        scale: int = 2,
        start=None,
    ):
        if explanation.refae is None or not explanation.reconstructions:
            raise InvalidInputError(
                "the explorer needs RefAE's and at least one ClaDec reconstruction: "
                "pass refae= to cladec.explain()"
            )
        if not isinstance(scale, int | np.integer) or not 1 <= scale <= 8:
            raise InvalidInputError(f"scale must be an integer from 1 to 8, got {scale!r}")
        self.explanation = explanation
        self.keys = list(explanation.reconstructions)
        self.start = self._start_key(start)
        self.scale = int(scale)
        n = len(explanation.images)
        self.titles = self._titles(n, y_true, y_pred, class_names)
        differences = explanation.differences
        # one scale for every alpha, so a colour means the same across the slider
        self.limit = max(1e-3, max(float(np.max(np.abs(d))) for d in differences.values()))

    def _start_key(self, start):
        if start is None:
            return 0.99 if 0.99 in self.keys else self.keys[0]
        if start not in self.keys:
            raise InvalidInputError(f"start={start!r} is not among the alphas {self.keys}")
        return start

    @staticmethod
    def _titles(n, y_true, y_pred, class_names) -> list[tuple[str, bool]]:
        if y_true is None:
            return [("", False)] * n
        true = np.asarray(y_true).reshape(-1)
        pred = None if y_pred is None else np.asarray(y_pred).reshape(-1)
        for name, values in (("y_true", true), ("y_pred", pred)):
            if values is not None and len(values) != n:
                raise InvalidInputError(f"{name} has {len(values)} labels for {n} images")
        return [
            _column_title(true[i], None if pred is None else pred[i], class_names) for i in range(n)
        ]

    def _frame(self, key) -> str:
        original = _display(self.explanation.images, "images")
        refae = _display(self.explanation.refae, "refae")
        rebuilt = _display(self.explanation.reconstructions[key], f"reconstructions[{key!r}]")
        difference = (rebuilt - refae) / self.limit
        colours = colormaps["RdBu_r"](np.clip((difference + 1) / 2, 0, 1))[..., :3]
        rows = [np.repeat(g[..., None], 3, axis=-1) for g in (original, refae, rebuilt)]
        return _png(_strip([np.clip(r, 0, 1) for r in rows] + [colours]))

    def to_html(self) -> str:
        """The explorer as one self-contained ``<div>`` (what notebooks and pages show)."""
        uid = f"cladec-explorer-{next(_IDS)}"
        shape = _display(self.explanation.images, "images").shape
        cell = (shape[2] + _GAP) * self.scale
        height = (shape[1] + _GAP) * self.scale
        labels = {f"data-label{k}": _row_label(key) for k, key in enumerate(self.keys)}
        width = (shape[0] * (shape[2] + _GAP) - _GAP) * self.scale
        images = "".join(
            f'<img data-k="{k}" alt="{html.escape(_row_label(key))}" '
            f'style="display:{"block" if key == self.start else "none"};image-rendering:pixelated;width:{width}px;max-width:none;margin:0" '
            f'src="data:image/png;base64,{self._frame(key)}">'
            for k, key in enumerate(self.keys)
        )
        titles = "".join(
            f'<span style="width:{cell}px;display:inline-block;text-align:center;'
            f'color:{"#c00" if wrong else "inherit"};white-space:pre">{html.escape(text)}</span>'
            for text, wrong in self.titles
        )
        title_height = (
            15 * max(1 + text.count("\n") for text, _ in self.titles)
            if any(text for text, _ in self.titles)
            else 0
        )
        rows = "".join(
            f'<div style="height:{height}px;display:flex;align-items:center;'
            f'justify-content:flex-end;white-space:nowrap">{name}</div>'
            for name in _ROWS
        )
        slider = (
            f'<input type="range" min="0" max="{len(self.keys) - 1}" step="1" '
            f'value="{self.keys.index(self.start)}" aria-label="alpha" '
            + " ".join(f'{a}="{html.escape(v)}"' for a, v in labels.items())
            + f' oninput="{_ON_INPUT}" style="width:{max(160, cell * 3)}px;vertical-align:middle">'
        )
        return (
            f'<div class="cladec-explorer" id="{uid}" style="font:12px sans-serif;margin:4px 0">'
            f'<div style="display:flex;gap:8px;overflow-x:auto">'
            f'<div style="padding-top:{title_height}px;text-align:right">{rows}</div>'
            f'<div><div style="height:{title_height}px;line-height:15px">{titles}</div>{images}</div></div>'
            f'<div style="margin-top:6px">{slider} <b class="cladec-explorer-value">'
            f"{html.escape(_row_label(self.start))}</b></div>"
            f'<div style="margin-top:2px">ClaDec - RefAE on one scale for every alpha, '
            f"\u00b1{self.limit:.2f}: red = ClaDec brighter, blue = RefAE brighter</div></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return (
            f"AlphaExplorer({len(self.explanation.images)} images, "
            f"alphas {[_row_label(k) for k in self.keys]})"
        )

    def save(self, path: str | Path) -> Path:
        """Write the explorer as a standalone HTML page (written whole, or not at all).

        Parameters
        ----------
        path : path-like
            The ``.html`` file to write.

        Returns
        -------
        Path
            ``path``.
        """
        path = Path(path)
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>ClaDec alpha explorer</title></head><body>{self.to_html()}</body></html>"
        )
        with atomic_file(path, "w") as handle:
            handle.write(page)
        return path

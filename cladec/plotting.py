"""Figures of ClaDec explanations: reconstruction grids, difference maps, neuron subsets.

Every function receives arrays (or result rows), draws one matplotlib figure
and returns it; none trains a model or calls ``plt.show()``. Figures are made
with :func:`matplotlib.pyplot.figure`, so Sphinx-Gallery and notebooks pick
them up; close them with ``plt.close(fig)`` when drawing many.

Images are accepted as uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` /
``(N, 28, 28)`` in [0, 1] and are shown in grey, black 0 to white 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .examples import class_labels
from .exceptions import InvalidInputError

__all__ = [
    "difference_maps",
    "reconstruction_grid",
    "subset_grid",
    "subset_label",
    "stack_figures",
]

_CELL = 1.05  # inches per image column / row
_WRONG_COLOUR = "#b2182b"
_TITLE_SIZE = 8.5
_LABEL_SIZE = 9
_GREY = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _display(images, name: str) -> np.ndarray:
    """Images as float ``(N, H, W)`` for imshow."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        raise InvalidInputError(
            f"{name} must be grey images, uint8 (N, H, W) or float (N, H, W, 1); "
            f"got shape {arr.shape}"
        )
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(arr.dtype, np.number):
        raise InvalidInputError(f"{name} must hold numbers; got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _signed(differences, name: str) -> np.ndarray:
    """Differences of two reconstructions as float ``(N, H, W)`` (uint8 has no sign: refused)."""
    arr = np.asarray(differences)
    if arr.dtype == np.uint8:
        raise InvalidInputError(
            f"{name} must be float differences in [-1, 1] (ClaDec - RefAE), not uint8 images"
        )
    return _display(arr, name)


def _class_name(label, class_names) -> str:
    label = int(label)
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


def _column_title(true, pred, class_names) -> tuple[str, bool]:
    """``("true" or "true - predicted", wrong)``; long pairs break after the dash."""
    true_name = _class_name(true, class_names)
    if pred is None or int(pred) == int(true):
        return true_name, False
    pred_name = _class_name(pred, class_names)
    text = f"{true_name} - {pred_name}"
    if len(text) > 15:
        text = f"{true_name} -\n{pred_name}"
    return text, True


def _row_label(key) -> str:
    if isinstance(key, (float, np.floating)) and not isinstance(key, bool):
        return f"alpha = {float(key):g}"
    return str(key)


def _wrap(label: str, width: int = 16) -> str:
    """Break a row label after a comma wherever its line would exceed ``width`` characters."""
    lines = []
    for part in str(label).split("\n"):
        current = ""
        for piece in part.split(", "):
            candidate = f"{current}, {piece}" if current else piece
            if current and len(candidate) > width:
                lines.append(current + ",")
                current = piece
            else:
                current = candidate
        lines.append(current)
    return "\n".join(lines)


def _label_width(labels) -> float:
    """Inches of figure width for the row labels on the left."""
    longest = max((len(line) for label in labels for line in _wrap(label).split("\n")), default=0)
    return max(0.9, 0.075 * longest + 0.3)


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _labels_array(values, n: int, name: str) -> np.ndarray | None:
    return None if values is None else class_labels(values, n, name)


def _new_grid(labels, n_cols: int, *, extra_height: float = 0.0, title=None):
    n_rows = len(labels)
    width = _label_width(labels) + _CELL * n_cols
    height = _CELL * n_rows + 0.35 + (0.35 if title else 0.0) + extra_height
    fig = plt.figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig, axes


def _draw_rows(axes, images_by_row, labels, styles, y_true, y_pred, class_names):
    """Fill a grid of axes, one row per image set, with imshow keywords per row."""
    for r, (label, images, style) in enumerate(zip(labels, images_by_row, styles, strict=True)):
        for c in range(axes.shape[1]):
            ax = axes[r, c]
            ax.imshow(images[c], interpolation="nearest", **style)
            _bare(ax)
            if c == 0:
                ax.set_ylabel(
                    _wrap(label),
                    rotation=0,
                    ha="right",
                    va="center",
                    fontsize=_LABEL_SIZE,
                    labelpad=6,
                )
            if r == 0 and y_true is not None:
                pred = None if y_pred is None else y_pred[c]
                text, wrong = _column_title(y_true[c], pred, class_names)
                colour = _WRONG_COLOUR if wrong else "black"
                ax.set_title(text, fontsize=_TITLE_SIZE, color=colour, pad=3)


# ---------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------


def reconstruction_grid(
    original,
    rows: Mapping[Any, Any],
    y_true=None,
    y_pred=None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    *,
    original_label: str = "Original",
) -> Figure:
    """Originals and their reconstructions: one column per image, one row per model.

    Parameters
    ----------
    original : ndarray
        The ``N`` originals, uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1].
    rows : dict
        ``{row label: reconstructions}``, each of the originals' shape, drawn
        top to bottom in order, e.g. ``{"RefAE": ..., "alpha = 0": ...,
        "alpha = 0.99": ...}``. Float keys are labelled ``"alpha = <key>"``.
    y_true : ndarray or None
        int ``(N,)`` true labels: column titles ``"true"``, or
        ``"true - predicted"`` (in red) where ``y_pred`` differs.
    y_pred : ndarray or None
        int ``(N,)`` predicted labels (or ``(N, K)`` class scores).
    class_names : sequence of str or None
        Names for the labels (Fashion-MNIST); default: the label numbers.
    title : str or None
        Figure title.
    original_label : str
        Label of the first row.

    Returns
    -------
    matplotlib.figure.Figure
        ``1 + len(rows)`` rows of ``N`` image axes.
    """
    first = _display(original, "original")
    n = len(first)
    labels = [original_label] + [_row_label(k) for k in rows]
    images = [first] + [_display(v, f"rows[{k!r}]") for k, v in rows.items()]
    for label, arr in zip(labels[1:], images[1:], strict=True):
        if arr.shape != first.shape:
            raise InvalidInputError(
                f"row {label!r} has images of shape {arr.shape}; the originals have {first.shape}"
            )
    y_true = _labels_array(y_true, n, "y_true")
    y_pred = _labels_array(y_pred, n, "y_pred")
    fig, axes = _new_grid(labels, n, title=title)
    styles = [_GREY] * len(images)
    _draw_rows(axes, images, labels, styles, y_true, y_pred, class_names)
    return fig


def difference_maps(
    differences,
    original=None,
    y_true=None,
    y_pred=None,
    class_names: Sequence[str] | None = None,
    *,
    refae=None,
    label: str = "ClaDec - RefAE",
    title: str | None = None,
    limit: float | None = None,
    cmap: str = "RdBu_r",
    caption: str = "ClaDec - RefAE per pixel:  red = ClaDec brighter,  blue = RefAE brighter",
) -> Figure:
    """Draw ``ClaDec - RefAE`` per pixel (:attr:`cladec.Explanation.differences`).

    Red pixels are brighter in ClaDec's reconstruction, blue ones brighter in
    the RefAE's. The colour scale is centred on zero, symmetric, and shared
    by all panels, with one colour bar.

    Parameters
    ----------
    differences : ndarray or dict
        ClaDec minus RefAE reconstructions, float32 ``(N, 28, 28, 1)`` in
        [-1, 1]; or ``{row label: differences}`` for several alphas (one row
        each; float keys are labelled ``"alpha = <key>"``).
    original : ndarray or None
        The originals, drawn in grey as the top row.
    y_true, y_pred, class_names
        Column titles, as for :func:`reconstruction_grid`.
    refae : ndarray or None
        The RefAE reconstructions, drawn in grey below the originals.
    label : str
        Row label when ``differences`` is a single array.
    title : str or None
        Figure title.
    limit : float or None
        Half-width of the colour scale; default: the largest absolute
        difference over all panels.
    cmap : str
        A diverging colormap.
    caption : str
        Label of the colour bar: what red and blue mean (say so when a row is
        another difference, e.g. two RefAEs).

    Returns
    -------
    matplotlib.figure.Figure
        The image axes (grey rows first, then one row per difference) and one
        colour bar axes, labelled.
    """
    if isinstance(differences, Mapping):
        diffs = [(_row_label(k), _signed(v, f"differences[{k!r}]")) for k, v in differences.items()]
    else:
        diffs = [(label, _signed(differences, "differences"))]
    if not diffs:
        raise InvalidInputError(
            "differences is empty: give at least one set of ClaDec - RefAE images"
        )
    shape = diffs[0][1].shape
    for row_label, arr in diffs:
        if arr.shape != shape:
            raise InvalidInputError(
                f"differences {row_label!r} have shape {arr.shape}; the first {shape}"
            )
    if limit is None:
        limit = max(float(np.max(np.abs(d))) for _, d in diffs)
    limit = max(float(limit), 1e-3)
    grey_rows = []
    for row_label, images in (("Original", original), ("RefAE", refae)):
        if images is not None:
            grey = _display(images, row_label.lower())
            if grey.shape != shape:
                raise InvalidInputError(
                    f"{row_label.lower()} has shape {grey.shape}; the differences {shape}"
                )
            grey_rows.append((row_label, grey))
    n = shape[0]
    y_true = _labels_array(y_true, n, "y_true")
    y_pred = _labels_array(y_pred, n, "y_pred")
    labels = [lab for lab, _ in grey_rows + diffs]
    fig, axes = _new_grid(labels, n, extra_height=0.75, title=title)
    images = [img for _, img in grey_rows + diffs]
    styles = [_GREY] * len(grey_rows) + [{"cmap": cmap, "vmin": -limit, "vmax": limit}] * len(diffs)
    _draw_rows(axes, images, labels, styles, y_true, y_pred, class_names)
    diff_axes = axes[len(grey_rows) :]
    mappable = diff_axes[-1, -1].images[0]
    colorbar = fig.colorbar(
        mappable,
        ax=list(diff_axes.ravel()),
        orientation="horizontal",
        location="bottom",
        shrink=0.5,
        aspect=35,
        pad=0.02,
        ticks=[-limit, 0.0, limit],
    )
    colorbar.ax.set_xticklabels([f"{-limit:.2f}", "0", f"+{limit:.2f}"])
    colorbar.set_label(caption, fontsize=_LABEL_SIZE)
    colorbar.ax.tick_params(labelsize=8)
    return fig


def subset_label(n_units: int, n_total: int) -> str:
    """Row label of a neuron subset, as in the reference figures.

    Parameters
    ----------
    n_units, n_total : int
        Units kept and units of the layer.

    Returns
    -------
    str
        E.g. ``subset_label(5, 10) == "Subset 5 / 10 neurons, 50 %"``.
    """
    return f"Subset {int(n_units)} / {int(n_total)} neurons, {100.0 * n_units / n_total:g} %"


def subset_grid(
    original,
    refae,
    subsets: Mapping[str, Any],
    labels=None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Reconstructions from subsets of a layer's neurons (``method.md`` §6 and §8).

    Parameters
    ----------
    original : ndarray
        Typically one image per class, uint8 ``(N, 28, 28)`` or float
        ``(N, 28, 28, 1)`` (see :func:`first_correct_per_class`).
    refae : ndarray
        RefAE reconstructions of ``original``, float32 ``(N, 28, 28, 1)``.
    subsets : dict
        ``{row label: ClaDec reconstructions}``, e.g.
        ``{subset_label(5, 10): ...}``, drawn in order.
    labels : ndarray or None
        int ``(N,)`` class labels of the columns (their titles).
    class_names : sequence of str or None
        Names for the labels.
    title : str or None
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Rows Original, RefAE, then one per subset, of ``N`` image axes each.
    """
    return reconstruction_grid(
        original, {"RefAE": refae, **dict(subsets)}, labels, None, class_names, title
    )


def stack_figures(figures: Sequence[Figure], *, dpi: int = 100) -> np.ndarray:
    """Render figures and stack them top to bottom into one RGBA image (white padding).

    Parameters
    ----------
    figures : sequence of matplotlib.figure.Figure
        Drawn in order; each is closed after rendering.
    dpi : int
        Resolution of the rendering.

    Returns
    -------
    ndarray
        uint8 ``(H, W, 4)``, ready for :func:`matplotlib.pyplot.imsave`.
    """
    if not figures:
        raise InvalidInputError("stack_figures needs at least one figure")
    images = []
    for fig in figures:
        fig.set_dpi(dpi)
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba()).copy())
        plt.close(fig)
    width = max(img.shape[1] for img in images)
    padded = []
    for img in images:
        pad = np.full((img.shape[0], width - img.shape[1], 4), 255, np.uint8)
        padded.append(np.concatenate([img, pad], axis=1))
    return np.concatenate(padded, axis=0)

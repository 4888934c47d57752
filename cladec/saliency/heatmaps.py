"""Figures of the saliency comparison: the maps, the deletion/insertion curves, the randomisation test.

Each function only draws: the maps come from :func:`cladec.saliency.comparison.method_maps`,
the curves from :func:`cladec.saliency.comparison.faithfulness_table`, the study from
:func:`cladec.saliency.comparison.randomisation_study`. Rows and lines are
named by :func:`label_of`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..exceptions import InvalidInputError
from ..plotting import _GREY, _LABEL_SIZE, _display, _draw_rows, _labels_array, _new_grid
from .registry import REGISTRY

__all__ = ["method_maps_grid", "faithfulness_curves", "randomisation_curves", "LABELS", "label_of"]

#: How the figures and tables name the maps that are not saliency methods:
#: ClaDec's and the baselines'. A saliency method's name is its
#: :attr:`~cladec.saliency.registry.SaliencyMethod.label`.
LABELS = {
    "cladec": "ClaDec",
    "cladec_magnitude": "ClaDec |ClaDec − RefAE|",
    "cladec_difference": "ClaDec, ClaDec − RefAE (signed)",
    "cladec_reconstruction": "ClaDec, its reconstruction",
    "cladec_predictions_magnitude": "ClaDec (predictions) |ClaDec − RefAE|",
    "cladec_predictions_difference": "ClaDec (predictions), signed",
    "cladec_predictions_reconstruction": "ClaDec (predictions), reconstruction",
    "ink": "Ink (the image itself)",
    "random": "Random",
}
#: The baselines' line styles: they know nothing of the model.
_BASELINE_STYLES = {
    "random": {"color": "0.55", "linestyle": "--"},
    "ink": {"color": "0.1", "linestyle": ":", "linewidth": 2},
}


def label_of(name: str) -> str:
    """The display name of a map: a registered saliency method's label, else its :data:`LABELS` entry.

    Parameters
    ----------
    name : str
        The map's name (``"gradcam"``, ``"cladec_magnitude"``, ...).

    Returns
    -------
    str
        The label; ``name`` itself when it has none.
    """
    method = REGISTRY.get(name)
    return method.label if method is not None else LABELS.get(name, name)


def method_maps_grid(
    maps: Mapping[str, np.ndarray],
    original=None,
    y_true=None,
    y_pred=None,
    class_names: Sequence[str] | None = None,
    *,
    title: str | None = None,
    cmap: str = "RdBu_r",
) -> Figure:
    """One row per map, one column per image; each row on its own scale, centred on zero.

    Parameters
    ----------
    maps : mapping
        ``{name: float (N, H, W) map}``, drawn top to bottom.
    original : ndarray or None
        The images, drawn in grey as the top row.
    y_true, y_pred, class_names
        Column titles, as for :func:`cladec.plotting.reconstruction_grid`.
    title : str or None
        Figure title.
    cmap : str
        A diverging colormap: red positive, blue negative.

    Returns
    -------
    matplotlib.figure.Figure
        The grid; each row's label gives its scale (the largest absolute value in the row).
    """
    if not maps:
        raise InvalidInputError("maps is empty: give at least one {name: (N, H, W) map}")
    rows = [(name, _display(values, f"maps[{name!r}]")) for name, values in maps.items()]
    shape = rows[0][1].shape
    for name, arr in rows:
        if arr.shape != shape:
            raise InvalidInputError(f"maps[{name!r}] has shape {arr.shape}; the first {shape}")
    labels, images, styles = [], [], []
    if original is not None:
        labels.append("Original")
        images.append(_display(original, "original"))
        styles.append(_GREY)
    for name, arr in rows:
        limit = max(float(np.max(np.abs(arr))), 1e-12)
        labels.append(f"{label_of(name)} (±{limit:.2g})")
        images.append(arr)
        styles.append({"cmap": cmap, "vmin": -limit, "vmax": limit})
    n = shape[0]
    fig, axes = _new_grid(labels, n, title=title)
    _draw_rows(
        axes,
        images,
        labels,
        styles,
        _labels_array(y_true, n, "y_true"),
        _labels_array(y_pred, n, "y_pred"),
        class_names,
    )
    return fig


def faithfulness_curves(curves: Mapping[tuple, object], *, title: str | None = None) -> Figure:
    """Mean deletion and insertion curves per map, side by side.

    Parameters
    ----------
    curves : mapping
        ``{(name, mode): Curves}`` from :func:`cladec.comparison.faithfulness_table`.
    title : str or None
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: deletion (lower is more faithful) and insertion (higher is).
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 6.8), layout="constrained", sharey=True)
    for ax, mode, better in zip(axes, ("deletion", "insertion"), ("lower", "higher")):
        for (name, m), c in curves.items():
            if m != mode:
                continue
            style = _BASELINE_STYLES.get(name, {})
            ax.plot(
                100 * c.fractions,
                c.mean_curve(),
                label=f"{label_of(name)}  ({c.areas.mean():.4f})",
                **style,
            )
        ax.set_xlabel(f"pixels {'deleted' if mode == 'deletion' else 'inserted'} (%)")
        ax.set_title(f"{mode.capitalize()}: area under the curve, {better} is more faithful")
        # below the axes: inside, the legend covered the curves it names
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("probability of the predicted class")
    if title:
        fig.suptitle(title)
    return fig


def randomisation_curves(study, *, title: str | None = None) -> Figure:
    """Mean rank correlation with the trained model's maps per cascade stage, per method.

    Parameters
    ----------
    study : RandomisationStudy
        From :func:`cladec.comparison.randomisation_study`.
    title : str or None
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One line per method with standard-error bars; the stage labels carry
        the randomised classifier's accuracy.
    """
    fig, ax = plt.subplots(figsize=(10, 4.2), layout="constrained")
    x = np.arange(len(study.stages))
    for name in study.correlations:
        style = _BASELINE_STYLES.get(name, {})
        ax.errorbar(
            x,
            study.mean(name),
            yerr=study.sem(name),
            marker="o",
            capsize=3,
            label=label_of(name),
            **style,
        )
    ax.set_xticks(
        x, [f"{s}\nacc {a:.2f}" for s, a in zip(study.stages, study.accuracies)], fontsize=8
    )
    ax.set_xlabel("weights re-initialised from the output down to ...", fontsize=_LABEL_SIZE)
    ax.set_ylabel("rank correlation with the trained model's map")
    ax.axhline(0, color="0.7", linewidth=0.8)
    lowest = min(float(study.mean(name).min()) for name in study.correlations)
    ax.set_ylim(min(-0.2, lowest - 0.1), 1.05)
    ax.grid(alpha=0.3)
    # beside the axes: inside, the legend covered the curves it names
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return fig

"""The alpha curves of an evaluation: fidelity, evaluation accuracy and loss against alpha.

They read result rows (:class:`cladec.studies.rows.EvaluationRow`) or a
reference-layout table, so they live with the studies that write them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..datasets import dataset_title
from ..exceptions import InvalidInputError
from .reference import as_rows

__all__ = ["alpha_curves"]


def _rows_for(data, dataset, layer):
    items = as_rows(data)
    pairs = list(dict.fromkeys((r.dataset, r.layer) for r in items))
    if dataset is None and layer is None and len(pairs) == 1:
        dataset, layer = pairs[0]
    chosen = [r for r in items if r.dataset == dataset and r.layer == layer]
    if not chosen:
        available = ", ".join(f"({name!r}, {lay!r})" for name, lay in pairs) or "none"
        raise InvalidInputError(
            f"no rows for dataset={dataset!r}, layer={layer!r}; available: {available}"
        )
    return chosen, dataset, layer


def _accuracy_noise(rows, curve) -> np.ndarray | None:
    """Two binomial standard errors of each accuracy of ``curve``: how far chance alone moves it."""
    n_test = {r.alpha: getattr(r, "n_test", None) for r in rows if r.model == "cladec"}
    if not all(n_test.get(a) for a, _ in curve):
        return None  # the reference table records no test size
    return np.array([2 * np.sqrt(v * (1 - v) / n_test[a]) for a, v in curve])


def alpha_curves(
    data,
    dataset: str | None = None,
    layer: str | None = None,
    *,
    reference=None,
    title: str | None = None,
) -> Figure:
    """Reconstruction loss, classification loss and evaluation accuracy against alpha.

    The alpha axis is categorical: one evenly spaced tick per alpha, labelled
    with its value, so that 0, 0.01, ..., 0.5, 0.99, 0.999, 0.9999 and 1 are
    all told apart (the spacing is not to scale). The RefAE (dashed) and the
    classifier itself (dotted) are horizontal reference lines. The
    reconstruction loss, which spans about 1 to 400, has a log scale.

    Parameters
    ----------
    data : list of EvaluationRow, reference-layout table or path-like (rows or reference CSV)
        Results, e.g. from :func:`cladec.results.evaluate_explainers` or
        :func:`cladec.reference.load_reference_table`.
    dataset, layer : str or None
        Which (dataset, layer) to draw; may be left out when ``data`` holds only one.
    reference : same types as ``data``, or None
        Another run (typically the reference results) drawn in grey for comparison.
    title : str or None
        Figure title; default ``"<dataset> / <layer>"``.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes side by side, and a legend below them. Our evaluation
        accuracies carry bars of two binomial standard errors of their test
        set, so a gap inside them does not read as a finding.
    """
    rows, dataset, layer = _rows_for(data, dataset, layer)
    runs = [("ours" if reference is not None else "", rows)]
    if reference is not None:
        ref_rows, _, _ = _rows_for(reference, dataset, layer)
        runs.append(("reference run", ref_rows))
    alphas = sorted({r.alpha for _, rs in runs for r in rs if r.model == "cladec"})
    if not alphas:
        raise InvalidInputError(
            f"no ClaDec rows for {dataset} / {layer}: nothing to draw against alpha"
        )
    position = {a: i for i, a in enumerate(alphas)}
    panels = (
        ("reconstruction_loss", "reconstruction loss" + _scale_note(rows)),
        ("classification_loss", "classification loss (cross-entropy)"),
        ("evaluation_accuracy", "evaluation accuracy"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
    for ax, (metric, ylabel) in zip(axes, panels, strict=True):
        drawn = False
        for k, (run_label, run_rows) in enumerate(runs):
            look = {"alpha": 0.4, "lw": 1.2} if k > 0 else {"lw": 1.6}
            suffix = f" ({run_label})" if run_label else ""
            drawn |= _draw_cladec_curve(ax, metric, run_rows, position, look, suffix)
            drawn |= _draw_reference_lines(ax, metric, run_rows, look, suffix)
        if metric == "reconstruction_loss" and drawn:
            ax.set_yscale("log")
        if not drawn:
            ax.text(
                0.5,
                0.5,
                "not computed",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="0.4",
            )
        ax.set_xticks(range(len(alphas)))
        ax.set_xticklabels(
            [f"{a:g}" for a in alphas], rotation=45, ha="right", rotation_mode="anchor", fontsize=8
        )
        ax.set_xlim(-0.5, len(alphas) - 0.5)
        ax.set_xlabel("alpha (evenly spaced, not to scale)", fontsize=9)
        ax.set_title(ylabel, fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        ax.tick_params(axis="y", labelsize=8)
    handles, labels = [], []
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            if text not in labels:
                handles.append(handle)
                labels.append(text)
    if handles:
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncol=min(len(labels), 3),
            fontsize=9,
            frameon=False,
        )
    if title is None:
        title = f"{dataset_title(dataset)}, layer {layer}"
    fig.suptitle(title, fontsize=11)
    return fig


def _draw_cladec_curve(ax, metric, rows, position, look, suffix) -> bool:
    """ClaDec's values of ``metric`` against alpha (accuracies with their noise bars)."""
    curve = sorted(
        (r.alpha, getattr(r, metric))
        for r in rows
        if r.model == "cladec" and getattr(r, metric) is not None
    )
    if not curve:
        return False
    xs, ys = [position[a] for a, _ in curve], [v for _, v in curve]
    style = {"marker": "o", "markersize": 4, "color": "C0", "label": "ClaDec" + suffix}
    noise = _accuracy_noise(rows, curve) if metric == "evaluation_accuracy" else None
    if noise is None:
        ax.plot(xs, ys, **style, **look)
    else:
        ax.errorbar(xs, ys, yerr=noise, capsize=2, **style, **look)
    return True


def _draw_reference_lines(ax, metric, rows, look, suffix) -> bool:
    """RefAE (dashed) and the classifier (dotted) as horizontal lines."""
    drawn = False
    for r in rows:
        value = getattr(r, metric)
        if value is None or r.model == "cladec":
            continue
        if r.model == "classifier" and metric == "reconstruction_loss":
            continue
        style = {"refAE": ("--", "C1"), "classifier": (":", "C2")}[r.model]
        name = "RefAE" if r.model == "refAE" else "classifier on the originals"
        ax.axhline(value, ls=style[0], color=style[1], label=name + suffix, **look)
        drawn = True
    return drawn


def _scale_note(rows) -> str:
    scales = {r.loss_scale for r in rows if r.reconstruction_loss is not None}
    if scales == {"mse"}:
        return " (MSE per pixel, log)"
    return " (SSE per image, log)"

"""Tests of cladec.plotting: every figure function on synthetic arrays; no training."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from cladec import plotting as pl
from cladec.datasets import FASHION_MNIST_CLASSES
from cladec.studies import reference, results
from cladec.studies.curves import alpha_curves

FASHION = FASHION_MNIST_CLASSES


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def images(n, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def row_labels(fig):
    return [ax.get_ylabel().replace("\n", " ") for ax in image_axes(fig) if ax.get_ylabel()]


def top_titles(fig):
    return [ax.get_title() for ax in image_axes(fig) if ax.get_title()]


# ---------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------


def test_reconstruction_grid_axes_labels_and_titles():
    original = (images(8) * 255).astype(np.uint8)[..., 0]
    rows = {"RefAE": images(8, 1), 0.0: images(8, 2), "alpha = 0.99": images(8, 3)}
    y_true = np.array([6, 0, 1, 6, 4, 9, 7, 2])
    y_pred = np.array([6, 0, 1, 4, 6, 7, 5, 2])
    fig = pl.reconstruction_grid(original, rows, y_true, y_pred, class_names=FASHION, title="Grid")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 4 * 8 == len(fig.axes)
    assert row_labels(fig) == ["Original", "RefAE", "alpha = 0", "alpha = 0.99"]
    titles = [t.replace("\n", " ") for t in top_titles(fig)]
    assert titles == [
        "Shirt",
        "T-shirt/top",
        "Trouser",
        "Shirt - Coat",
        "Coat - Shirt",
        "Ankle boot - Sneaker",
        "Sneaker - Sandal",
        "Pullover",
    ]
    assert fig._suptitle.get_text() == "Grid"
    for ax in axes:
        assert ax.images[0].get_clim() == (0.0, 1.0)
        assert ax.images[0].get_cmap().name == "gray"
        assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    width, _ = fig.get_size_inches()
    assert 8 <= width <= 12


def test_reconstruction_grid_digits_and_errors():
    fig = pl.reconstruction_grid(images(3), {}, [1, 2, 3])
    assert top_titles(fig) == ["1", "2", "3"] and row_labels(fig) == ["Original"]
    with pytest.raises(ValueError, match="shape"):
        pl.reconstruction_grid(images(3), {"RefAE": images(4)})
    with pytest.raises(ValueError, match="label"):
        pl.reconstruction_grid(images(3), {}, [1, 2])


def test_difference_maps_symmetric_shared_colour_bar():
    refae = images(8, 1)
    cladec = {0.0: images(8, 2), 0.99: np.clip(images(8, 3) * 0.5, 0, 1)}
    differences = {alpha: rec - refae for alpha, rec in cladec.items()}
    fig = pl.difference_maps(
        differences,
        original=images(8),
        y_true=np.arange(8),
        y_pred=np.array([0, 1, 2, 3, 4, 5, 6, 0]),
    )
    assert isinstance(fig, Figure)
    colorbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 1
    assert len(image_axes(fig)) == 3 * 8 and len(fig.axes) == 3 * 8 + 1
    assert row_labels(fig) == ["Original", "alpha = 0", "alpha = 0.99"]
    assert top_titles(fig)[-1] == "7 - 0"
    limit = max(np.abs(cladec[0.0] - refae).max(), np.abs(cladec[0.99] - refae).max())
    diff_images = [ax.images[0] for ax in image_axes(fig)[8:]]
    for im in diff_images:
        low, high = im.get_clim()
        assert low == pytest.approx(-high) and high == pytest.approx(limit)
    norm = diff_images[0].norm
    assert norm.vmin == pytest.approx(-norm.vmax)
    cbar = colorbars[0]
    label = cbar.get_xlabel() + cbar.get_ylabel()
    assert "ClaDec brighter" in label and "RefAE brighter" in label
    low, high = cbar.get_xlim()
    assert low == pytest.approx(-high)
    assert diff_images[0].get_cmap().name == "RdBu_r"
    # zero maps to the centre of the colour map
    centre = diff_images[0].cmap(diff_images[0].norm(0.0))
    assert np.allclose(centre, diff_images[0].cmap(0.5))


def test_difference_maps_single_array_and_errors():
    refae = images(5, 1)
    fig = pl.difference_maps(images(5, 2) - refae, refae=refae, limit=0.5, label="alpha = 0.5")
    assert row_labels(fig) == ["RefAE", "alpha = 0.5"]
    assert image_axes(fig)[-1].images[0].get_clim() == (-0.5, 0.5)
    assert not top_titles(fig)
    with pytest.raises(ValueError, match="shape"):
        pl.difference_maps(images(4), refae=refae)
    with pytest.raises(ValueError, match="not uint8 images"):
        pl.difference_maps(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="differences is empty"):
        pl.difference_maps({})


def test_subset_grid_rows():
    assert pl.subset_label(5, 10) == "Subset 5 / 10 neurons, 50 %"
    assert pl.subset_label(25, 256) == "Subset 25 / 256 neurons, 9.76562 %"
    subsets = {pl.subset_label(k, 10): images(10, k) for k in (1, 5, 9, 10)}
    fig = pl.subset_grid(images(10), images(10, 20), subsets, np.arange(10), title="Subsets")
    assert len(image_axes(fig)) == 6 * 10
    assert row_labels(fig) == [
        "Original",
        "RefAE",
        "Subset 1 / 10 neurons, 10 %",
        "Subset 5 / 10 neurons, 50 %",
        "Subset 9 / 10 neurons, 90 %",
        "Subset 10 / 10 neurons, 100 %",
    ]
    assert top_titles(fig) == [str(i) for i in range(10)]


# ---------------------------------------------------------------------------
# Alpha curves
# ---------------------------------------------------------------------------


def test_alpha_curves_from_the_reference_table():
    table = reference.load_reference_table()
    fig = alpha_curves(table, "fashion_mnist", "my_dense")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    rec_ax, cls_ax, acc_ax = fig.axes
    labels = [t.get_text() for t in rec_ax.get_xticklabels()]
    assert labels == ["0", "0.01", "0.05", "0.1", "0.25", "0.5", "0.99", "0.999", "0.9999", "1"]
    assert list(rec_ax.get_xticks()) == list(range(10))  # evenly spaced
    assert rec_ax.get_yscale() == "log" and acc_ax.get_yscale() == "linear"
    assert "reconstruction" in rec_ax.get_title() and "accuracy" in acc_ax.get_title()
    curve = acc_ax.get_lines()[0]
    assert np.allclose(curve.get_ydata()[[0, -1]], [0.9033, 0.9129], atol=1e-4)
    horizontal = {ln.get_label(): ln.get_ydata()[0] for ln in acc_ax.get_lines()[1:]}
    assert horizontal["RefAE"] == pytest.approx(0.8887, abs=1e-4)
    assert horizontal["classifier on the originals"] == pytest.approx(0.9206, abs=1e-4)
    cls_labels = {ln.get_label() for ln in cls_ax.get_lines()}
    assert cls_labels == {"ClaDec", "classifier on the originals"}
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_texts == ["ClaDec", "RefAE", "classifier on the originals"]
    assert "Fashion-MNIST" in fig._suptitle.get_text()


def test_alpha_curves_from_rows_with_reference_overlay():
    rows = [
        results.EvaluationRow("mnist", "my_conv", "classifier", None, None, 0.05, 0.05, 0.99),
        results.EvaluationRow("mnist", "my_conv", "refAE", None, 0.4, 0.1, 0.4, None),
        results.EvaluationRow("mnist", "my_conv", "cladec", 0.0, 1.5, 0.05, 1.5, None),
        results.EvaluationRow("mnist", "my_conv", "cladec", 0.99, 3.0, 0.04, 0.07, None),
    ]
    fig = alpha_curves(rows)  # the only (dataset, layer): no need to name it
    acc_ax = fig.axes[2]
    assert [ln.get_label() for ln in acc_ax.get_lines()] == ["classifier on the originals"]
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["0", "0.99"]
    fig = alpha_curves(
        rows, "mnist", "my_conv", reference=reference.load_reference_table(), title="T"
    )
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(labels) == 10
    legend_texts = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"ClaDec (ours)", "ClaDec (reference run)", "RefAE (ours)"} <= legend_texts
    assert fig._suptitle.get_text() == "T"
    with pytest.raises(ValueError, match="available"):
        alpha_curves(rows, "mnist", "my_dense")
    with pytest.raises(ValueError, match="available"):
        # four (dataset, layer) pairs: the caller must choose one
        alpha_curves(reference.load_reference_table())

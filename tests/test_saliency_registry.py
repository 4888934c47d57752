"""The saliency-method registry: one registered method is known to every part of the comparison.

A test-only method, ``edge`` (the signed difference of each image along its
columns, or rows), is registered for a test and removed after it; the
comparison computes it through :func:`saliency_maps`, the figures name it by
its label and the faithfulness table and the randomisation study rank its
pixels as its entry says.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cladec.saliency import comparison, heatmaps
from cladec.saliency.faithfulness import perturbation_curves, rank_correlation
from cladec.saliency.methods import METHODS, all_saliency_maps, saliency_maps
from cladec.saliency.registry import (
    RANKINGS,
    REGISTRY,
    SaliencyMethod,
    register_method,
    unregister_method,
)
from cladec.saliency.sanity import cascading_randomisation

BUILT_IN = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")
CALLS: list[dict] = []


def _edges(images: np.ndarray, axis: int) -> np.ndarray:
    """Signed central differences of the images (float ``(N, H, W, C)``) along ``axis``."""
    return np.gradient(images.sum(axis=-1), axis=axis).astype(np.float32)


def edge_map(model, images, classes, *, score, batch_size, axis):
    CALLS.append({"classes": classes, "score": score, "batch_size": batch_size, "axis": axis})
    return _edges(images, axis)


EDGE = SaliencyMethod(
    name="edge", compute=edge_map, label="Edges", ranking="magnitude", defaults={"axis": 2}
)


def gradient_times_input(model, images, classes, *, score, batch_size):
    # The example of "Adding a saliency method" (cladec.saliency.registry), as it stands there.
    grads = saliency_maps(
        model, images, "gradient", classes=classes, score=score, batch_size=batch_size
    )
    return grads * images.sum(axis=-1)


@pytest.fixture
def edge():
    CALLS.clear()
    register_method(EDGE)
    yield EDGE
    for name in ("edge", "gradient_x_input"):
        if name in REGISTRY:
            unregister_method(name)
    assert tuple(REGISTRY) == METHODS


@pytest.fixture(scope="module")
def digits(mnist_small):
    """12 real test digits, float (N, 28, 28, 1) in [0, 1], and their labels."""
    return mnist_small.x_test[:12, ..., None] / np.float32(255), mnist_small.y_test[:12]


def test_the_built_in_methods_are_registered_as_they_were_hard_coded():
    assert METHODS == BUILT_IN and tuple(REGISTRY) == BUILT_IN
    assert {m: REGISTRY[m].label for m in METHODS} == {
        "gradient": "Gradient",
        "smoothgrad": "SmoothGrad",
        "integrated_gradients": "Integrated Gradients",
        "gradcam": "Grad-CAM",
    }
    assert [REGISTRY[m].ranking for m in METHODS] == ["magnitude", "magnitude", "value", "value"]
    assert dict(REGISTRY["smoothgrad"].defaults) == {"samples": 25, "noise": 0.15, "seed": 0}
    assert dict(REGISTRY["integrated_gradients"].defaults) == {"steps": 32, "baseline": 0.0}
    assert dict(REGISTRY["gradcam"].defaults) == {"layer": None}
    assert RANKINGS == ("magnitude", "value")
    signed = np.array([[[-2.0, 1.0]]], np.float32)
    for name in METHODS:
        expected = np.abs(signed) if name in ("gradient", "smoothgrad") else signed
        np.testing.assert_array_equal(comparison.ranking_scores(name, signed), expected)
    # Maps that are not saliency methods keep their labels and rank by value.
    others = {"cladec_magnitude": "ClaDec |ClaDec − RefAE|", "ink": "Ink (the image itself)"}
    for name, label in others.items():
        assert heatmaps.label_of(name) == label
        np.testing.assert_array_equal(comparison.ranking_scores(name, signed), signed)
    assert "gradient" not in heatmaps.LABELS and heatmaps.label_of("gradient") == "Gradient"


def test_a_registered_method_is_computed_through_saliency_maps(edge, perfect_classifier, digits):
    x, _ = digits
    assert tuple(REGISTRY) == (*METHODS, "edge") and METHODS == BUILT_IN
    maps = saliency_maps(perfect_classifier, x, "edge")
    assert maps.shape == (12, 28, 28) and maps.dtype == np.float32
    np.testing.assert_array_equal(maps, _edges(x, 2))
    # It was called with the checked classes (the prediction), the score and its default.
    predicted = perfect_classifier.predict(x, verbose=0).argmax(axis=1)
    call = CALLS[-1]
    np.testing.assert_array_equal(call["classes"], predicted)
    assert call["classes"].dtype == np.int32
    assert (call["score"], call["batch_size"], call["axis"]) == ("logit", 256, 2)
    # uint8 digits are converted as for the built-in methods; a keyword overrides the default.
    uint8 = np.round(x[..., 0] * 255).astype(np.uint8)
    np.testing.assert_allclose(
        saliency_maps(perfect_classifier, uint8, "edge", axis=1, classes=3), _edges(x, 1)
    )
    assert CALLS[-1]["axis"] == 1 and set(CALLS[-1]["classes"]) == {3}
    # Several methods at once: each gets only its own parameters.
    both = all_saliency_maps(perfect_classifier, x, methods=("gradient", "edge"), axis=1, steps=3)
    assert list(both) == ["gradient", "edge"]
    np.testing.assert_array_equal(both["edge"], _edges(x, 1))
    np.testing.assert_array_equal(
        both["gradient"], saliency_maps(perfect_classifier, x, "gradient")
    )
    with pytest.raises(
        TypeError, match="unknown parameter.*axes; the registered methods take axis"
    ):
        saliency_maps(perfect_classifier, x, "edge", axes=1)
    with pytest.raises(ValueError, match="unknown saliency method 'edges'.*gradcam, edge"):
        all_saliency_maps(perfect_classifier, x, methods=("edge", "edges"))


def test_a_method_s_maps_must_have_the_images_shape(edge, perfect_classifier, digits):
    def channels(model, images, classes, *, score, batch_size, axis):
        return images

    register_method(dataclasses.replace(EDGE, compute=channels), replace=True)
    with pytest.raises(ValueError, match=r"'edge' returned maps of shape \(12, 28, 28, 1\).*"):
        saliency_maps(perfect_classifier, digits[0], "edge")


def test_the_figures_name_a_registered_method_by_its_label(edge, perfect_classifier, digits):
    x, _ = digits
    assert heatmaps.label_of("edge") == "Edges"
    maps = comparison.method_maps(perfect_classifier, x[:3], methods=("gradient", "edge"))
    fig = heatmaps.method_maps_grid(maps, x[:3])
    try:
        rows = [" ".join(ax.get_ylabel().split()) for ax in fig.axes if ax.get_ylabel()]
        assert rows[0] == "Original"
        assert rows[1].startswith("Gradient (±") and rows[2].startswith("Edges (±"), rows
    finally:
        plt.close(fig)
    _, curves = comparison.faithfulness_table(perfect_classifier, x[:3], maps, steps=2)
    fig = heatmaps.faithfulness_curves(curves)
    try:
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert [t.split("  ")[0] for t in legend] == [
            "Gradient",
            "Edges",
            "Ink (the image itself)",
            "Random",
        ]
    finally:
        plt.close(fig)
    # Unregistered, it is a map like any other: named and ranked by its key and value.
    unregister_method("edge")
    assert heatmaps.label_of("edge") == "edge"
    np.testing.assert_array_equal(comparison.ranking_scores("edge", maps["edge"]), maps["edge"])
    with pytest.raises(ValueError, match="unknown saliency method 'edge'; choose one of gradient"):
        saliency_maps(perfect_classifier, x, "edge")


def test_the_faithfulness_table_ranks_pixels_as_the_entry_says(edge, perfect_classifier, digits):
    x, _ = digits
    maps = comparison.method_maps(perfect_classifier, x, methods=("edge",))
    assert list(maps) == ["edge"]
    signed = maps["edge"]
    assert (signed < 0).any() and (signed > 0).any()
    np.testing.assert_array_equal(comparison.ranking_scores("edge", signed), np.abs(signed))

    def table():
        rows, curves = comparison.faithfulness_table(perfect_classifier, x, maps, steps=6)
        return {m: curves[("edge", m)].probabilities for m in ("deletion", "insertion")}

    def direct(scores):
        return {
            m: perturbation_curves(perfect_classifier, x, scores, m, steps=6).probabilities
            for m in ("deletion", "insertion")
        }

    by_magnitude, by_value = direct(np.abs(signed)), direct(signed)
    assert not np.array_equal(by_magnitude["deletion"], by_value["deletion"])
    for mode, probabilities in table().items():
        np.testing.assert_array_equal(probabilities, by_magnitude[mode])
    register_method(dataclasses.replace(EDGE, ranking="value"), replace=True)
    for mode, probabilities in table().items():
        np.testing.assert_array_equal(probabilities, by_value[mode])


class _Reconstructs:
    """Stands in for a fitted ClaDec or RefAE: the study only calls ``reconstruct``."""

    def reconstruct(self, images):
        return np.asarray(images, np.float32)


def test_the_randomisation_study_ranks_a_registered_method(edge, perfect_classifier, digits):
    register_method(
        SaliencyMethod("gradient_x_input", gradient_times_input, "Gradient × Input", "magnitude")
    )
    x, y = digits
    cascade = cascading_randomisation(perfect_classifier)[:2]
    stages = [(label, model, _Reconstructs()) for label, model in cascade]
    study = comparison.randomisation_study(
        stages, _Reconstructs(), x, y, methods=("edge", "gradient_x_input")
    )
    assert set(study.correlations) == {"edge", "gradient_x_input", "cladec", "ink"}
    # The edge map knows nothing of the model: it survives every stage.
    np.testing.assert_allclose(study.correlations["edge"], 1.0)
    # Gradient x input is ranked by its magnitude, stage by stage.
    classes = perfect_classifier.predict(x, verbose=0).argmax(axis=1)
    trained, randomised = (
        np.abs(saliency_maps(model, x, "gradient_x_input", classes=classes))
        for _, model, _ in stages
    )
    np.testing.assert_allclose(
        trained,
        np.abs(saliency_maps(perfect_classifier, x, "gradient", classes=classes) * x[..., 0]),
    )
    np.testing.assert_allclose(
        study.correlations["gradient_x_input"][1], rank_correlation(trained, randomised)
    )
    assert study.mean("gradient_x_input")[0] == pytest.approx(1.0)


def _method(**changes) -> SaliencyMethod:
    fields = {
        "name": "edge",
        "compute": edge_map,
        "label": "Edges",
        "ranking": "magnitude",
        "defaults": {"axis": 2},
    }
    return SaliencyMethod(**{**fields, **changes})


def test_registration_refuses_a_duplicate_or_a_bad_entry(edge):
    with pytest.raises(ValueError, match="'edge' is registered already.*replace=True"):
        register_method(EDGE)
    with pytest.raises(ValueError, match="'gradient' is registered already"):
        register_method(_method(name="gradient"))
    with pytest.raises(ValueError, match="takes a SaliencyMethod.*got function"):
        register_method(edge_map)
    with pytest.raises(ValueError, match="lowercase identifier.*got 'Edge map'"):
        _method(name="Edge map")
    for reserved in ("ink", "random", "cladec_edges"):
        with pytest.raises(ValueError, match="baselines ink and random and its ClaDec maps"):
            _method(name=reserved)
    with pytest.raises(ValueError, match="compute must be a function.*got str"):
        _method(compute="edge_map")
    with pytest.raises(ValueError, match="label must be a non-empty str; got ' '"):
        _method(label=" ")
    with pytest.raises(ValueError, match="ranking must be one of magnitude, value; got 'absolute'"):
        _method(ranking="absolute")
    with pytest.raises(ValueError, match="defaults must be a mapping.*got tuple"):
        _method(defaults=(("axis", 2),))
    with pytest.raises(ValueError, match="saliency_maps' own .*got 'classes'"):
        _method(defaults={"axis": 2, "classes": None})
    with pytest.raises(ValueError, match=r"compute must accept .*batch_size, axis, sigma\)"):
        _method(defaults={"axis": 2, "sigma": 1.0})
    with pytest.raises(ValueError, match="'gradcam' is a built-in saliency method"):
        unregister_method("gradcam")
    with pytest.raises(ValueError, match="no saliency method 'sobel'.*built-in ones: edge"):
        unregister_method("sobel")
    # Nothing was registered by the refused calls; entries and the registry are read-only.
    assert tuple(REGISTRY) == (*METHODS, "edge") and REGISTRY["edge"] is EDGE
    with pytest.raises(dataclasses.FrozenInstanceError):
        EDGE.label = "Sobel"
    with pytest.raises(TypeError):
        EDGE.defaults["axis"] = 1
    with pytest.raises(TypeError):
        REGISTRY["sobel"] = EDGE
    # Replacing is explicit, and returns what it registered.
    relabelled = dataclasses.replace(EDGE, label="Sobel")
    assert register_method(relabelled, replace=True) is relabelled
    assert heatmaps.label_of("edge") == "Sobel" and tuple(REGISTRY)[-1] == "edge"

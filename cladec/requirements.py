"""Can ClaDec explain this classifier? A checklist to run before training anything.

ClaDec needs little of a classifier: one image input, class scores that are
probabilities (the classification term of eq. 1 divides the scores by their
sum), inputs scaled to [0, 1] (the decoder's sigmoid output lives there), and
the layer to explain, found by name. :func:`check_classifier` checks each on
the model (and on sample images, when given) and says which decoder ClaDec
would build for the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from ._layer_explainer import as_model

__all__ = ["Requirement", "Checklist", "check_classifier"]


@dataclass(frozen=True)
class Requirement:
    """One line of the checklist: what is required, whether it holds, and what was found.

    Parameters
    ----------
    name : str
        The requirement, in words.
    ok : bool or None
        Whether it holds; ``None`` when it cannot be checked without sample images.
    found : str
        What the check found on the model (or the images).
    """

    name: str
    ok: bool | None
    found: str


@dataclass(frozen=True)
class Checklist:
    """Every requirement, in order; ``ok`` when none fails.

    Parameters
    ----------
    items : tuple of Requirement
        The checklist's lines, in the order :func:`check_classifier` checks them.
    """

    items: tuple

    @property
    def ok(self) -> bool:
        return all(item.ok is not False for item in self.items)

    def report(self) -> str:
        marks = {True: "ok  ", False: "FAIL", None: "?   "}
        return "\n".join(f"[{marks[i.ok]}] {i.name}: {i.found}" for i in self.items)

    def __str__(self) -> str:
        return self.report()


def _scores(model, x) -> Requirement:
    name = "class scores are probabilities (softmax or sigmoid outputs)"
    activation = getattr(model.layers[-1], "activation", None)
    activation = getattr(activation, "__name__", str(activation))
    if x is None:
        ok = True if activation in ("softmax", "sigmoid") else None
        return Requirement(name, ok, f"last layer's activation: {activation}")
    scores = np.asarray(model.predict(x[:256], verbose=0))
    low, high = float(scores.min()), float(scores.max())
    sums = scores.sum(axis=1)
    found = (
        f"on {len(scores)} images, scores in [{low:.3g}, {high:.3g}], "
        f"row sums {float(sums.min()):.3g} to {float(sums.max()):.3g} (activation {activation})"
    )
    return Requirement(name, low >= 0.0 and high <= 1.0 + 1e-6, found)


def _inputs(x) -> Requirement:
    name = "images are float in [0, 1]"
    if x is None:
        return Requirement(name, None, "no sample images given")
    x = np.asarray(x)
    low, high = float(x.min()), float(x.max())
    ok = np.issubdtype(x.dtype, np.floating) and low >= 0.0 and high <= 1.0
    return Requirement(name, bool(ok), f"{x.dtype} images in [{low:.3g}, {high:.3g}]")


def _layer(model, layer) -> list[Requirement]:
    names = [lay.name for lay in model.layers[1:-1] if not isinstance(lay, keras.layers.InputLayer)]
    name = "the layer to explain is found by name, between input and output"
    if layer is None:
        return [Requirement(name, None, f"no layer given; candidates: {', '.join(names)}")]
    if layer not in names:
        return [Requirement(name, False, f"{layer!r} is not one of: {', '.join(names)}")]
    from .explainers import ClaDec  # the decoder ClaDec itself would build

    explainer = ClaDec(model, layer)
    decoder = explainer.build_decoder(0)
    kinds = " -> ".join(type(lay).__name__ for lay in decoder.layers[1:])
    return [
        Requirement(
            name,
            True,
            f"{layer!r}, output {tuple(explainer.layer_shape)}, a code of {explainer.code_size} values",
        ),
        Requirement(
            "a decoder for it",
            True,
            f"{decoder.count_params():,} parameters: {kinds} (pass decoder= to use your own)",
        ),
    ]


def check_classifier(classifier, x=None, *, layer: str | None = None) -> Checklist:
    """Check a classifier (and sample images) against what ClaDec needs.

    Parameters
    ----------
    classifier : keras.Model or TrainedClassifier
        The trained (or untrained) classifier.
    x : ndarray or None
        Sample images as you would pass them to ClaDec, float32
        ``(N, H, W, C)``; without them, the score and input checks read only
        the model.
    layer : str or None
        The layer to explain; without it, the checklist lists the candidates.

    Returns
    -------
    Checklist
        ``checklist.ok`` and ``print(checklist)``: one line per requirement,
        ``ok``, ``FAIL`` or ``?`` (not checkable without ``x``), with what was found.
    """
    model = as_model(classifier)
    input_ok = len(model.inputs) == 1 and len(model.input_shape) == 4
    output_ok = len(model.output_shape) == 2 and (model.output_shape[-1] or 0) >= 2
    items = [
        Requirement("one image input (N, H, W, C)", input_ok, f"input {tuple(model.input_shape)}"),
        Requirement(
            "class scores out (N, K), K >= 2", output_ok, f"output {tuple(model.output_shape)}"
        ),
        _scores(model, None if x is None else np.asarray(x, dtype=np.float32)),
        _inputs(x),
        *_layer(model, layer),
    ]
    return Checklist(tuple(items))

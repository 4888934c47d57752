"""Stand-ins shared by the tests of metrics, results and the reference layout."""

from __future__ import annotations

import keras
import numpy as np

from cladec.studies.rows import EvaluationRow


def constant_classifier(num_classes: int = 10) -> keras.Model:
    """A classifier that outputs the uniform distribution for every image."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                num_classes,
                activation="softmax",
                kernel_initializer="zeros",
                bias_initializer="zeros",
            ),
        ]
    )


class FakeExplainer:
    """Duck-typed explainer: reconstructs by a fixed function of the input."""

    def __init__(self, classifier, fn, alpha=None, layer_name="my_dense", loss_scale="sse"):
        self.classifier, self.fn = classifier, fn
        self.layer_name, self.loss_scale = layer_name, loss_scale
        if alpha is not None:
            self.alpha = alpha

    def reconstruct(self, x, *, batch_size=512):
        x = np.asarray(x, dtype="float32")
        if x.ndim == 3:
            x = x[..., None] / 255
        return self.fn(x).astype("float32")


def example_rows(dataset="mnist", layer="my_dense", alphas=(0.0, 0.5, 0.999)):
    """Rows of one (dataset, layer) with made-up but distinct values in every field."""
    rows = [
        EvaluationRow(dataset, layer, "classifier", None, None, 0.04, 0.04, 0.99, n_test=300),
        EvaluationRow(
            *(dataset, layer, "refAE", None, 3.1, 0.2, 3.1, 0.98, 0.97, 0.96),
            n_test=300,
            eval_epochs=2,
            eval_from_cache=True,
        ),
    ]
    for i, alpha in enumerate(alphas):
        rec, cls = 20.0 + 10 * i, 0.1 / (i + 1)
        total = (1 - alpha) * rec + alpha * cls
        rows.append(
            EvaluationRow(
                *(dataset, layer, "cladec", alpha, rec, cls, total, 0.98 + 0.001 * i, 0.9, 0.95),
                n_test=300,
                eval_epochs=2,
                eval_from_cache=False,
            )
        )
    return rows

"""Train several classifiers of one architecture in one pass, each on its own images.

The evaluation accuracy trains one fresh classifier per explainer of a layer,
all with the same recipe, the same labels and the same batch order; only the
images differ (each explainer's reconstructions). Run one after another, each
fit pays TensorFlow's per-step overhead alone; in one wrapper model every
batch goes through all of them in a single step.
``benchmarks/bench_eval_classifiers.py`` measures what that gains here.

Each member keeps its own weights and its own loss; the wrapper's loss is their
sum, whose gradient with respect to one member's weights is that member's own
gradient, and Adam's update is element-wise, so each member trains as it would
alone, up to float rounding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from .exceptions import InvalidInputError
from .history import TrainingHistory
from .training import Log, _one_hot, normalised_cross_entropy

__all__ = ["fit_classifiers_side_by_side"]


class _SideBySide(keras.Model):
    """Member ``i`` reads input ``i``; the loss is the sum of the members' mean losses."""

    def __init__(self, members: Sequence[keras.Model], **kwargs):
        super().__init__(**kwargs)
        self.members = list(members)
        self.loss_trackers = [keras.metrics.Mean(name=f"loss_{i}") for i in range(len(members))]
        self.accuracy_trackers = [
            keras.metrics.CategoricalAccuracy(name=f"accuracy_{i}") for i in range(len(members))
        ]

    @property
    def metrics(self):
        # Listed here, Keras resets them at the start of every epoch.
        return [*self.loss_trackers, *self.accuracy_trackers]

    def call(self, inputs, training=False):
        return [member(x, training=training) for member, x in zip(self.members, inputs)]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        losses = []
        for i, (target, probs) in enumerate(zip(y, y_pred)):
            loss = tf.reduce_mean(normalised_cross_entropy(target, probs))
            self.loss_trackers[i].update_state(loss)
            self.accuracy_trackers[i].update_state(target, probs)
            losses.append(loss)
        return tf.add_n(losses)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return {m.name: m.result() for m in self.metrics}


class _EpochLine(keras.callbacks.Callback):
    def __init__(self, epochs: int, labels: Sequence[str], log: Log):
        super().__init__()
        self.epochs, self.labels, self.log = epochs, list(labels), log

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self._start
        self.log(
            f"  epoch {epoch + 1}/{self.epochs} ({seconds:.1f} s), {len(self.labels)} side by side"
        )
        for i, label in enumerate(self.labels):
            self.log(
                f"    {label}: loss {logs.get(f'loss_{i}', float('nan')):.4f}  "
                f"accuracy {logs.get(f'accuracy_{i}', float('nan')):.4f}"
            )


def fit_classifiers_side_by_side(
    models: Sequence[keras.Model],
    images: Sequence[np.ndarray],
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    epsilon: float = 1e-4,
    log: Log | None = None,
    labels: Sequence[str] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> list[TrainingHistory]:
    """Train ``models[i]`` on ``images[i]`` in place, all in one pass; the recipe of ``fit_classifier``.

    Parameters
    ----------
    models : sequence of keras.Model
        Untrained classifiers mapping float32 ``(N, H, W, C)`` to ``(N, K)``
        probabilities; built just before the call, so that the batch order
        drawn here is the one a separate ``fit_classifier`` call would draw.
    images : sequence of ndarray
        One float32 ``(N, H, W, C)`` set per model, all of the same length.
    y : ndarray
        int ``(N,)`` labels, shared by every set.
    epochs, batch_size, learning_rate, epsilon
        As :func:`cladec.training.fit_classifier` (Adam, normalised cross-entropy).
    log : callable or None
        Receives the epoch lines (one per epoch, one per model).
    labels : sequence of str or None
        Names the models in the epoch lines.
    callbacks : sequence of keras.callbacks.Callback
        Passed to ``keras.Model.fit`` of the wrapper.

    Returns
    -------
    list of TrainingHistory
        One per model, ``loss`` and ``accuracy`` per epoch; ``seconds`` is the
        shared wall time of the pass.
    """
    models, images = list(models), list(images)
    if not models or len(models) != len(images):
        raise InvalidInputError(
            f"give one image set per model: got {len(models)} model(s) and {len(images)} set(s)"
        )
    lengths = {len(x) for x in images}
    if lengths != {len(y)}:
        raise InvalidInputError(
            f"every image set needs one image per label ({len(y)}); got sets of {sorted(lengths)}"
        )
    onehot = _one_hot(y, int(models[0].output_shape[-1]))
    wrapper = _SideBySide(models, name="classifiers_side_by_side")
    wrapper.compile(
        optimizer=keras.optimizers.Adam(learning_rate, epsilon=epsilon), jit_compile=False
    )
    labels = list(labels or [f"classifier {i}" for i in range(len(models))])
    lines = [_EpochLine(epochs, labels, log)] if log else []
    start = time.perf_counter()
    fitted = wrapper.fit(
        images,
        [onehot] * len(models),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[*lines, *callbacks],
    )
    seconds = time.perf_counter() - start
    history = fitted.history
    return [
        TrainingHistory(
            {
                "loss": [float(v) for v in history[f"loss_{i}"]],
                "accuracy": [float(v) for v in history[f"accuracy_{i}"]],
            },
            seconds,
        )
        for i in range(len(models))
    ]

"""Training models that rebuild images with the loss of eq. 1: the one loop of ClaDec and RefAE.

:func:`fit_reconstructors` is the one loop behind ClaDec, RefAE and alpha
sweeps. It wraps a list of image-producing models in one
:class:`ReconstructionSweep`, whose loss scores all their reconstructions of
a batch with a single call of the frozen classifier. The losses are summed,
so each model receives exactly its own gradient and ends as if trained alone
(up to float rounding in the batched classifier call), for a fraction of the
cost of separate runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from .exceptions import InvalidInputError
from .history import TERMS, TrainingHistory
from .losses import DEFAULT_LOSS, get_loss, total_loss
from .training import Log, _EpochLines, _fit_shuffled, _one_hot

__all__ = ["ReconstructionSweep", "fit_reconstructors"]


class _Frozen:
    """Holds the explained classifier out of Keras' attribute tracking.

    A classifier assigned to a model attribute would join that model's weights
    (and its optimizer's variables); ClaDec must only read it.
    """

    def __init__(self, model: keras.Model):
        self.model = model


class ReconstructionSweep(keras.Model):
    """Models that rebuild images, trained side by side with the loss of eq. 1.

    Calling it runs every member on the same inputs; its loss is the sum of
    the members' own losses, so each receives exactly its own gradient. The
    classifier scores the reconstructions of all members with ``alpha > 0``
    in one call, in inference mode, and is never updated.

    Parameters
    ----------
    members : sequence of keras.Model
        Each maps a batch of inputs to float32 ``(B, H, W, C)`` images in [0, 1].
    alphas : sequence of float
        One alpha in [0, 1] per member.
    classifier : keras.Model or None
        The frozen classifier; needed when any alpha is above 0.
    loss_scale : {"sse", "mse"}
        Reconstruction loss per image summed (reference) or per-pixel mean.
    loss : Eq1Loss, str or None
        The terms of eq. 1 (:mod:`cladec.losses`); default: the reference's ``"eq1"``.
    **kwargs
        Passed to ``keras.Model`` (e.g. ``name``).

    Notes
    -----
    Train it with ``fit(inputs, {"image": x, "label": one_hot_y})``; the
    history then holds ``m{i}_total``, ``m{i}_reconstruction`` and
    ``m{i}_classification`` per member ``i`` (see :func:`fit_reconstructors`).
    """

    def __init__(
        self, members, alphas, *, classifier=None, loss_scale: str = "sse", loss=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.members = list(members)
        self.alphas = [float(a) for a in alphas]
        if len(self.alphas) != len(self.members):
            raise InvalidInputError(f"got {len(self.members)} models but {len(self.alphas)} alphas")
        self._scored = [i for i, a in enumerate(self.alphas) if a > 0.0]
        if self._scored and classifier is None:
            raise InvalidInputError(
                "alpha > 0 needs the classifier that scores the reconstructions"
            )
        self._classifier = _Frozen(classifier) if classifier is not None else None
        self.loss_scale = loss_scale
        self.eq1 = get_loss(loss or DEFAULT_LOSS)
        self.trackers = [
            [keras.metrics.Mean(name=f"m{i}_{term}") for term in TERMS]
            for i in range(len(self.members))
        ]

    def call(self, inputs, training=False):
        return [member(inputs, training=training) for member in self.members]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The loss of one batch: the sum of the members' eq. 1 losses.

        Also updates the per-member ``total``, ``reconstruction`` and
        ``classification`` metrics.

        Parameters
        ----------
        x : tensor or None
            The inputs; not used.
        y : dict
            ``{"image": float32 (B, H, W, C) targets, "label": float32 (B, K)
            one-hot labels}``.
        y_pred : list of tensor
            Each member's reconstructions, float32 ``(B, H, W, C)``.
        sample_weight : tensor or None
            Not used: every image weighs the same.
        training : bool
            Not used: the classifier always runs in inference mode.

        Returns
        -------
        tensor
            float32 scalar: the summed losses, divided by the number of
            replicas under a ``tf.distribute`` strategy.
        """
        target = y["image"]
        recs = [self.eq1.reconstruction(target, out, self.loss_scale) for out in y_pred]
        clss = [tf.zeros(()) for _ in y_pred]
        if self._scored:
            batch = tf.concat([y_pred[i] for i in self._scored], axis=0)
            probs = self._classifier.model(batch, training=False)
            for i, chunk in zip(self._scored, tf.split(probs, len(self._scored), axis=0)):
                clss[i] = self.eq1.classification(y["label"], chunk)
        totals = [total_loss(r, c, a) for r, c, a in zip(recs, clss, self.alphas)]
        for trackers, values in zip(self.trackers, zip(totals, recs, clss)):
            for tracker, value in zip(trackers, values):
                tracker.update_state(value)
        # Under a tf.distribute strategy each replica's mean covers its share of
        # the batch; the gradients are summed over replicas, so scale down (on
        # several machines, num_replicas_in_sync counts every worker's replicas).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return tf.add_n(totals) / float(replicas)

    def member_histories(self, history: dict, seconds: float) -> list[TrainingHistory]:
        """Split a ``fit`` history into one :class:`TrainingHistory` per member.

        Parameters
        ----------
        history : dict
            ``keras.callbacks.History.history``: ``{"m{i}_total": [...], ...}``
            and their ``val_`` versions.
        seconds : float
            Wall time, given to every member's history.

        Returns
        -------
        list of TrainingHistory
            Per member, in order, with series ``total``, ``reconstruction``,
            ``classification`` (and ``val_`` versions).
        """
        result = []
        for i in range(len(self.members)):
            epochs = {}
            for prefix in ("", "val_"):
                for term in TERMS:
                    key = f"{prefix}m{i}_{term}"
                    if key in history:
                        epochs[f"{prefix}{term}"] = [float(v) for v in history[key]]
            result.append(TrainingHistory(epochs, seconds))
        return result


def _sweep_line(labels, alphas) -> Callable[[dict], str]:
    def describe(logs: dict) -> str:
        parts = []
        for i, (label, alpha) in enumerate(zip(labels, alphas)):
            text = f"{label}: {logs.get(f'm{i}_total', float('nan')):.4g}"
            if alpha > 0:
                text += (
                    f" (rec {logs.get(f'm{i}_reconstruction', float('nan')):.4g},"
                    f" cls {logs.get(f'm{i}_classification', float('nan')):.3g})"
                )
            parts.append(text)
        return "loss  " + ";  ".join(parts)

    return describe


def fit_reconstructors(
    models: Sequence[keras.Model],
    inputs: np.ndarray,
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    alphas: Sequence[float],
    classifier: keras.Model | None = None,
    loss_scale: str = "sse",
    loss=None,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 5e-3,
    epsilon: float = 1e-4,
    seed: int = 0,
    validation_data: tuple | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    log: Log | None = None,
    labels: Sequence[str] | None = None,
) -> list[TrainingHistory]:
    """Train models that rebuild ``x`` from ``inputs`` with the loss of eq. 1, side by side.

    Parameters
    ----------
    models : sequence of keras.Model
        Each maps a batch of ``inputs`` to float32 ``(B, H, W, C)`` images in
        [0, 1]; all their trainable weights are trained. ClaDec passes
        decoders (inputs are codes), RefAE a whole autoencoder (inputs are images).
    inputs : ndarray
        ``(N, ...)`` model inputs, float32.
    x : ndarray
        float32 ``(N, H, W, C)`` target images in [0, 1].
    y : ndarray or None
        int ``(N,)`` labels; needed when any alpha is above 0.
    alphas : sequence of float
        One alpha in [0, 1] per model.
    classifier : keras.Model or None
        The frozen classifier scoring the reconstructions (inference mode,
        never updated); needed when any alpha is above 0.
    loss_scale : {"sse", "mse"}
        Reconstruction loss per image summed (reference) or per-pixel mean.
    loss : Eq1Loss, str or None
        The terms of eq. 1; default: the reference's ``"eq1"``.
    epochs, batch_size, learning_rate, epsilon
        Adam settings (reference: 10 epochs, batch 32, Adam(5e-3, epsilon=1e-4)).
    seed : int
        Seeds the order of the batches; the same seed gives every model the
        same batches as when it is trained alone.
    validation_data : (inputs, x, y) or None
        Evaluated after every epoch (``val_total``, ...; ``y`` may be ``None``
        when every alpha is 0).
    callbacks : sequence of keras.callbacks.Callback
        Passed to ``keras.Model.fit`` of the :class:`ReconstructionSweep`.
    log : callable or None
        Receives one line per epoch.
    labels : sequence of str or None
        Short names of the models for the log lines.

    Returns
    -------
    list of TrainingHistory
        Per model, every epoch's mean ``total``, ``reconstruction`` and
        ``classification`` losses; ``seconds`` is the shared wall time.
    """
    models, alphas = list(models), [float(a) for a in alphas]
    if any(a > 0.0 for a in alphas) and (classifier is None or y is None):
        raise InvalidInputError("alpha > 0 needs the classifier and the labels y")
    if int(inputs.shape[0]) != int(x.shape[0]):
        raise InvalidInputError(f"inputs has {inputs.shape[0]} rows but x has {x.shape[0]}")
    labels = list(labels) if labels is not None else [f"model {i}" for i in range(len(models))]
    num_classes = int(classifier.output_shape[-1]) if classifier is not None else 1

    def targets(images, classes):
        n = int(images.shape[0])
        onehot = (
            _one_hot(classes, num_classes)
            if classes is not None
            else np.zeros((n, num_classes), "float32")
        )
        return {"image": images, "label": onehot}

    sweep = ReconstructionSweep(
        models, alphas, classifier=classifier, loss_scale=loss_scale, loss=loss, name="sweep"
    )
    sweep.compile(
        optimizer=keras.optimizers.Adam(learning_rate, epsilon=epsilon), jit_compile=False
    )
    validation = None
    if validation_data is not None:
        v_inputs, v_x, v_y = validation_data
        validation = (v_inputs, targets(v_x, v_y))
    lines = [_EpochLines(epochs, log, _sweep_line(labels, alphas))] if log else []
    # Keras draws the batch order from the global seed: reseeding here gives a
    # model the same batches in a sweep as alone, whatever its set-up consumed.
    keras.utils.set_random_seed(int(seed))
    start = time.perf_counter()
    wanted = targets(x, y)
    fitted = _fit_shuffled(
        sweep, inputs, wanted, epochs, batch_size, validation, [*lines, *callbacks]
    )
    return sweep.member_histories(fitted.history, time.perf_counter() - start)

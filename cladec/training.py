"""Training loops, all through ``keras.Model.fit``: classifiers, and decoders trained with eq. 1.

:func:`fit_reconstructors` is the one loop behind ClaDec, RefAE and alpha
sweeps. It wraps a list of image-producing models in one
:class:`ReconstructionSweep`, whose loss scores all their reconstructions of
a batch with a single call of the frozen classifier. The losses are summed,
so each model receives exactly its own gradient and ends as if trained alone
(up to float rounding in the batched classifier call), for a fraction of the
cost of separate runs.

Because both loops are ``fit``, they take ``callbacks=`` and
``validation_data=``, return every epoch's losses in a :class:`TrainingHistory`,
and run data-parallel under a ``tf.distribute`` strategy's scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from . import _forward
from .losses import classification_loss, reconstruction_loss, total_loss

__all__ = [
    "TrainingHistory",
    "ReconstructionSweep",
    "seed_everything",
    "normalised_cross_entropy",
    "fit_classifier",
    "fit_reconstructors",
    "evaluate_classifier",
    "predict_batched",
    "recalibrate_batchnorm",
]

Log = Callable[[str], None]
_TERMS = ("total", "reconstruction", "classification")


@dataclass
class TrainingHistory:
    """Every epoch's losses of one trained model, and the wall time.

    Parameters
    ----------
    epochs : dict
        ``{name: [value per epoch]}``, e.g. ``loss``/``accuracy`` for a
        classifier, ``total``/``reconstruction``/``classification`` for a
        decoder, with ``val_`` versions when validation data were given.
    seconds : float
        Wall time of the training call (shared by models trained side by side).
    """

    epochs: dict = field(default_factory=dict)
    seconds: float = 0.0

    def last(self) -> dict:
        """The last epoch's value of every series: ``{name: float}``."""
        return {name: float(values[-1]) for name, values in self.epochs.items() if values}

    def to_dict(self) -> dict:
        """A JSON-ready form (what the model store records)."""
        return {"epochs": self.epochs, "seconds": round(float(self.seconds), 3)}

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainingHistory:
        """Read :meth:`to_dict` back; an entry written before histories existed gives its last epoch.

        Parameters
        ----------
        data : dict or None
            ``{"epochs": {...}, "seconds": float}`` as :meth:`to_dict` writes
            it, or an older flat ``{name: float}`` of final metrics (each
            becomes a one-epoch series); ``None`` or ``{}`` gives an empty history.

        Returns
        -------
        TrainingHistory
            The history, values as float.
        """
        data = data or {}
        if "epochs" in data and isinstance(data["epochs"], dict):
            return cls(
                {k: [float(v) for v in vs] for k, vs in data["epochs"].items()},
                float(data.get("seconds", 0.0)),
            )
        numbers = {
            k: [float(v)] for k, v in data.items() if isinstance(v, (int, float)) and k != "seconds"
        }
        return cls(numbers, float(data.get("seconds", 0.0)))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic kernels.

    Same seed, same profile, same machine and thread count: the same weights.
    Across CPUs with other instruction sets, or other thread counts, float
    reductions may round differently, so bit-exactness is not promised there.

    Parameters
    ----------
    seed : int
        Passed to ``keras.utils.set_random_seed``.
    """
    keras.utils.set_random_seed(int(seed))
    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # older TF, or already set
        pass


@keras.saving.register_keras_serializable(package="cladec")
def normalised_cross_entropy(y_true, y_pred):
    """Categorical cross-entropy on output scores divided by their sum, per image.

    This is what the reference run (Keras 2) trained its sigmoid-output
    classifier with. Keras 3's ``"categorical_crossentropy"`` instead finds the
    logits behind a sigmoid layer and applies a *softmax* cross-entropy to
    them; the logits then grow until several sigmoid outputs round to 1.0 and
    the predicted class is decided by ties (test accuracy 0.963 instead of
    0.99 in our measurement). Passing this function keeps the reference loss.

    Parameters
    ----------
    y_true : tensor
        One-hot labels, float32 ``(B, K)``.
    y_pred : tensor
        Output scores ``(B, K)``, non-negative (sigmoid or softmax outputs).

    Returns
    -------
    tensor
        float32 ``(B,)``: the cross-entropy of each image.
    """
    return classification_loss(y_true, y_pred, reduce=False)


class _EpochLines(keras.callbacks.Callback):
    """One plain line per epoch (no progress bars: they garble HTML and CI logs)."""

    def __init__(self, epochs: int, log: Log, describe: Callable[[dict], str]):
        super().__init__()
        self.epochs, self.log, self.describe = epochs, log, describe

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        self.log(
            f"  epoch {epoch + 1}/{self.epochs} ({seconds:.1f} s)  {self.describe(logs or {})}"
        )


def _one_hot(y, num_classes: int) -> np.ndarray:
    return keras.utils.to_categorical(np.asarray(y), num_classes).astype("float32")


def fit_classifier(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    epsilon: float = 1e-4,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    log: Log | None = None,
    label: str = "classifier",
) -> TrainingHistory:
    """Train a classifier in place with the reference recipe (Adam, :func:`normalised_cross_entropy`).

    Parameters
    ----------
    model : keras.Model
        Maps float32 ``(N, H, W, C)`` to ``(N, K)`` probabilities. Build it
        inside a ``tf.distribute`` strategy's scope to train data-parallel.
    x : ndarray
        float32 ``(N, H, W, C)`` images in [0, 1].
    y : ndarray
        int ``(N,)`` class labels in ``0..K-1``.
    epochs, batch_size, learning_rate, epsilon
        Training settings (reference: 10 epochs, batch 32, Adam(1e-3, epsilon=1e-4)).
    validation_data : (x, y) or None
        Images and int labels evaluated after every epoch (``val_loss``, ``val_accuracy``).
    callbacks : sequence of keras.callbacks.Callback
        Passed to ``keras.Model.fit``.
    log : callable or None
        Receives one line per epoch; ``None`` trains silently.
    label : str
        Names the model in the log lines.

    Returns
    -------
    TrainingHistory
        ``loss`` and ``accuracy`` per epoch (and their ``val_`` versions).
    """
    num_classes = int(model.output_shape[-1])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, epsilon=epsilon),
        loss=normalised_cross_entropy,
        metrics=["accuracy"],
        jit_compile=False,
    )
    validation = None
    if validation_data is not None:
        validation = (validation_data[0], _one_hot(validation_data[1], num_classes))

    def describe(logs: dict) -> str:
        text = f"{label}: loss {logs.get('loss', float('nan')):.4f}  accuracy {logs.get('accuracy', float('nan')):.4f}"
        if "val_accuracy" in logs:
            text += f"  val_accuracy {logs['val_accuracy']:.4f}"
        return text

    lines = [_EpochLines(epochs, log, describe)] if log else []
    start = time.perf_counter()
    fitted = model.fit(
        x,
        _one_hot(y, num_classes),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        validation_data=validation,
        callbacks=[*lines, *callbacks],
    )
    return TrainingHistory(
        {k: [float(v) for v in vs] for k, vs in fitted.history.items()},
        time.perf_counter() - start,
    )


def evaluate_classifier(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return the categorical cross-entropy and accuracy of ``model`` on images ``x``, labels ``y``.

    Parameters
    ----------
    model : keras.Model
        Maps float32 ``(N, H, W, C)`` to ``(N, K)`` scores; run in inference mode.
    x : ndarray
        float32 ``(N, H, W, C)`` images in [0, 1].
    y : ndarray
        int ``(N,)`` class labels in ``0..K-1``.

    Returns
    -------
    tuple of float
        ``(loss, accuracy)``: the mean cross-entropy of the scores normalised
        by their sum (as :func:`normalised_cross_entropy`), and the fraction
        of images whose highest score is the label.
    """
    probs = predict_batched(model, x)
    loss = float(classification_loss(_one_hot(y, probs.shape[-1]), probs))
    return loss, float(np.mean(probs.argmax(axis=1) == np.asarray(y)))


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
    **kwargs
        Passed to ``keras.Model`` (e.g. ``name``).

    Notes
    -----
    Train it with ``fit(inputs, {"image": x, "label": one_hot_y})``; the
    history then holds ``m{i}_total``, ``m{i}_reconstruction`` and
    ``m{i}_classification`` per member ``i`` (see :func:`fit_reconstructors`).
    """

    def __init__(self, members, alphas, *, classifier=None, loss_scale: str = "sse", **kwargs):
        super().__init__(**kwargs)
        self.members = list(members)
        self.alphas = [float(a) for a in alphas]
        if len(self.alphas) != len(self.members):
            raise ValueError(f"got {len(self.members)} models but {len(self.alphas)} alphas")
        self._scored = [i for i, a in enumerate(self.alphas) if a > 0.0]
        if self._scored and classifier is None:
            raise ValueError("alpha > 0 needs the classifier that scores the reconstructions")
        self._classifier = _Frozen(classifier) if classifier is not None else None
        self.loss_scale = loss_scale
        self.trackers = [
            [keras.metrics.Mean(name=f"m{i}_{term}") for term in _TERMS]
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
        recs = [reconstruction_loss(target, out, self.loss_scale) for out in y_pred]
        clss = [tf.zeros(()) for _ in y_pred]
        if self._scored:
            batch = tf.concat([y_pred[i] for i in self._scored], axis=0)
            probs = self._classifier.model(batch, training=False)
            for i, chunk in zip(self._scored, tf.split(probs, len(self._scored), axis=0)):
                clss[i] = classification_loss(y["label"], chunk)
        totals = [total_loss(r, c, a) for r, c, a in zip(recs, clss, self.alphas)]
        for trackers, values in zip(self.trackers, zip(totals, recs, clss)):
            for tracker, value in zip(trackers, values):
                tracker.update_state(value)
        # Under a tf.distribute strategy each replica's mean covers its share of
        # the batch; the gradients are summed over replicas, so scale down.
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
                for term in _TERMS:
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
        raise ValueError("alpha > 0 needs the classifier and the labels y")
    if int(inputs.shape[0]) != int(x.shape[0]):
        raise ValueError(f"inputs has {inputs.shape[0]} rows but x has {x.shape[0]}")
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
        models, alphas, classifier=classifier, loss_scale=loss_scale, name="sweep"
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
    fitted = sweep.fit(
        inputs,
        targets(x, y),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        validation_data=validation,
        callbacks=[*lines, *callbacks],
    )
    return sweep.member_histories(fitted.history, time.perf_counter() - start)


def _batch_norm_layers(layer) -> list:
    found = [layer] if isinstance(layer, keras.layers.BatchNormalization) else []
    for child in getattr(layer, "layers", []):
        found.extend(_batch_norm_layers(child))
    return found


def recalibrate_batchnorm(model: keras.Model, x: np.ndarray, *, n_images: int = 4096) -> int:
    """Set every BatchNormalization layer's moving statistics to those of ``x[:n_images]``.

    Keras' moving averages (momentum 0.99) lag behind weights that are still
    changing, so after a short training the test accuracy in inference mode
    falls far below the accuracy in training mode (0.78 versus 0.96 after one
    epoch on 12,000 digits). One forward pass in training mode with the
    momentum set to 0 replaces them by the statistics of one large batch.

    Parameters
    ----------
    model : keras.Model
        Updated in place; BatchNormalization layers in nested models count too.
    x : ndarray
        float32 model inputs ``(N, ...)``, e.g. ``(N, H, W, C)`` images in [0, 1].
    n_images : int
        How many of the first images form the batch.

    Returns
    -------
    int
        The number of BatchNormalization layers updated (0: the model is unchanged).
    """
    norms = list({id(lay): lay for lay in _batch_norm_layers(model)}.values())
    if not norms:
        return 0
    saved = [lay.momentum for lay in norms]
    try:
        for lay in norms:
            lay.momentum = 0.0
        model(x[:n_images], training=True)
    finally:
        for lay, momentum in zip(norms, saved):
            lay.momentum = momentum
    return len(norms)


def predict_batched(model: keras.Model, inputs: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Run ``model`` in inference mode over ``inputs`` in batches; return a NumPy array.

    Parameters
    ----------
    model : keras.Model
        Any model with one input and one output.
    inputs : ndarray
        ``(N, ...)`` model inputs.
    batch_size : int
        Inputs per model call.

    Returns
    -------
    ndarray
        The outputs concatenated along the first axis, ``(N, ...)``, in the
        model's output dtype. The pass is compiled once per model, and the
        last results are remembered (keyed by the weights and the input's
        bytes), so asking again about the same images costs no pass.
    """
    return _forward.predict(model, inputs, batch_size)

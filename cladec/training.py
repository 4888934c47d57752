"""Training loops: classifiers, and decoders trained with eq. 1 (several at once).

:func:`train_reconstructors` is the one loop behind ClaDec, RefAE and alpha
sweeps. It trains a list of image-producing models side by side, one combined
step per batch: the losses are summed, so each model receives exactly its own
gradient, and the frozen classifier scores all reconstructions of a batch in
one call. Each model therefore ends as if trained alone (up to float rounding
in the batched classifier call), for a fraction of the cost of separate runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import keras
import numpy as np

from .losses import classification_loss, reconstruction_loss, total_loss

__all__ = [
    "seed_everything",
    "normalised_cross_entropy",
    "fit_classifier",
    "train_classifier",
    "train_reconstructors",
    "predict_batched",
    "profile_data",
    "evaluate_classifier",
    "recalibrate_batchnorm",
]

Log = Callable[[str], None]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic kernels.

    Same seed, same profile, same machine and thread count: the same weights.
    Across CPUs with other instruction sets, or other thread counts, float
    reductions may round differently, so bit-exactness is not promised there.
    """
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # older TF, or already set
        pass


def _print(message: str) -> None:
    print(message, flush=True)


@keras.saving.register_keras_serializable(package="cladec")
def normalised_cross_entropy(y_true, y_pred):
    """Categorical cross-entropy on output scores divided by their sum, per image.

    This is what the reference run (Keras 2) trained its sigmoid-output
    classifier with. Keras 3's ``"categorical_crossentropy"`` instead finds the
    logits behind a sigmoid layer and applies a *softmax* cross-entropy to
    them; the logits then grow until several sigmoid outputs round to 1.0 and
    the predicted class is decided by ties (test accuracy 0.963 instead of
    0.99 in our measurement). Passing this function keeps the reference loss.
    """
    from .losses import classification_loss

    return classification_loss(y_true, y_pred, reduce=False)


def fit_classifier(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    epsilon: float = 1e-4,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    log: Log | None = _print,
    label: str = "classifier",
) -> dict:
    """Train a classifier in place with the reference recipe (Adam, :func:`normalised_cross_entropy`).

    Parameters
    ----------
    model : keras.Model
        Maps float32 ``(N, H, W, C)`` to ``(N, K)`` probabilities.
    x : ndarray
        float32 ``(N, H, W, C)`` images in [0, 1].
    y : ndarray
        int ``(N,)`` class labels in ``0..K-1``.
    epochs, batch_size, learning_rate, epsilon, seed
        Training settings (reference: 10 epochs, batch 32, Adam(1e-3, epsilon=1e-4)).
    validation : (x, y) or None
        Evaluated after the last epoch and reported in the returned metrics.
    log : callable or None
        Receives one line per epoch; ``None`` trains silently.
    label : str
        Names the model in the log lines.

    Returns
    -------
    dict
        ``loss`` and ``accuracy`` of the last epoch, ``val_loss`` and
        ``val_accuracy`` when ``validation`` is given, and ``seconds``.
    """
    num_classes = int(model.output_shape[-1])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, epsilon=epsilon),
        loss=normalised_cross_entropy,
        metrics=["accuracy"],
    )
    y_onehot = keras.utils.to_categorical(y, num_classes).astype("float32")
    callbacks = [_EpochLine(label, epochs, log)] if log else []
    start = time.perf_counter()
    history = model.fit(
        x,
        y_onehot,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    metrics = {
        "loss": float(history.history["loss"][-1]),
        "accuracy": float(history.history["accuracy"][-1]),
        "seconds": time.perf_counter() - start,
    }
    if validation is not None:
        metrics["val_loss"], metrics["val_accuracy"] = evaluate_classifier(model, *validation)
    return metrics


def evaluate_classifier(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return the categorical cross-entropy and accuracy of ``model`` on images ``x``, labels ``y``."""
    from .losses import classification_loss

    probs = predict_batched(model, x)
    onehot = keras.utils.to_categorical(y, probs.shape[-1])
    loss = float(classification_loss(onehot, probs))
    return loss, float(np.mean(probs.argmax(axis=1) == np.asarray(y)))


class _EpochLine(keras.callbacks.Callback):
    """One plain line per epoch (no progress bars: they garble HTML and CI logs)."""

    def __init__(self, label: str, epochs: int, log: Log):
        super().__init__()
        self.label, self.epochs, self.log = label, epochs, log

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.log(
            f"  {self.label}: epoch {epoch + 1}/{self.epochs}  loss {logs.get('loss', float('nan')):.4f}"
            f"  accuracy {logs.get('accuracy', float('nan')):.4f}  ({time.perf_counter() - self._start:.1f} s)"
        )


def train_reconstructors(
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
    log: Log | None = _print,
    labels: Sequence[str] | None = None,
) -> list[dict]:
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
    log : callable or None
        Receives one line per epoch.
    labels : sequence of str or None
        Short names of the models for the log lines.

    Returns
    -------
    list of dict
        Per model, the last epoch's mean ``total``, ``reconstruction`` and
        ``classification`` losses, and ``seconds`` (shared wall time).
    """
    import tensorflow as tf

    models = list(models)
    alphas = [float(a) for a in alphas]
    if len(alphas) != len(models):
        raise ValueError(f"got {len(models)} models but {len(alphas)} alphas")
    needs_classifier = [a > 0.0 for a in alphas]
    if any(needs_classifier) and (classifier is None or y is None):
        raise ValueError("alpha > 0 needs the classifier and the labels y")
    labels = list(labels) if labels is not None else [f"model {i}" for i in range(len(models))]
    n = int(inputs.shape[0])
    if x.shape[0] != n:
        raise ValueError(f"inputs has {n} rows but x has {x.shape[0]}")

    num_classes = int(classifier.output_shape[-1]) if classifier is not None else 1
    y_onehot = (
        keras.utils.to_categorical(y, num_classes).astype("float32")
        if y is not None and classifier is not None
        else np.zeros((n, 1), "float32")
    )
    variables = [v for m in models for v in m.trainable_variables]
    optimizer = keras.optimizers.Adam(learning_rate, epsilon=epsilon)
    optimizer.build(variables)
    alpha_consts = [tf.constant(a, tf.float32) for a in alphas]
    scored = [i for i, flag in enumerate(needs_classifier) if flag]

    # autograph=False: the step is plain Python over fixed lists, traced once; autograph
    # would re-read the source files, which breaks if they change during a long run.
    @tf.function(reduce_retracing=True, autograph=False)
    def step(inp, target, onehot):
        with tf.GradientTape() as tape:
            outputs = [m(inp, training=True) for m in models]
            recs = [reconstruction_loss(target, out, loss_scale) for out in outputs]
            clss = [tf.zeros(()) for _ in models]
            if scored:
                probs = classifier(tf.concat([outputs[i] for i in scored], axis=0), training=False)
                for j, chunk in zip(scored, tf.split(probs, len(scored), axis=0)):
                    clss[j] = classification_loss(onehot, chunk)
            totals = [total_loss(r, c, a) for r, c, a in zip(recs, clss, alpha_consts)]
            combined = tf.add_n(totals)
        grads = tape.gradient(combined, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return tf.stack(totals), tf.stack(recs), tf.stack(clss)

    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    result = []
    for epoch in range(epochs):
        epoch_start = time.perf_counter()
        order = rng.permutation(n)
        sums = np.zeros((3, len(models)))
        for begin in range(0, n, batch_size):
            idx = order[begin : begin + batch_size]
            totals, recs, clss = step(inputs[idx], x[idx], y_onehot[idx])
            weight = len(idx) / n
            sums += weight * np.stack([totals.numpy(), recs.numpy(), clss.numpy()])
        result = [
            {
                "total": float(sums[0, i]),
                "reconstruction": float(sums[1, i]),
                "classification": float(sums[2, i]),
            }
            for i in range(len(models))
        ]
        if log:
            parts = [
                f"{lab}: {r['total']:.4g}"
                + (
                    f" (rec {r['reconstruction']:.4g}, cls {r['classification']:.3g})"
                    if a > 0
                    else ""
                )
                for lab, r, a in zip(labels, result, alphas)
            ]
            log(
                f"  epoch {epoch + 1}/{epochs} ({time.perf_counter() - epoch_start:.1f} s)  loss  "
                + ";  ".join(parts)
            )
    seconds = time.perf_counter() - start
    for r in result:
        r["seconds"] = seconds
    return result


def recalibrate_batchnorm(model: keras.Model, x: np.ndarray, *, n_images: int = 4096) -> int:
    """Set every BatchNormalization layer's moving statistics to those of ``x[:n_images]``.

    Keras' moving averages (momentum 0.99) lag behind weights that are still
    changing, so after a short training the test accuracy in inference mode
    falls far below the accuracy in training mode (0.78 versus 0.96 after one
    epoch on 12,000 digits). One forward pass in training mode with the
    momentum set to 0 replaces them by the statistics of one large batch.
    Returns the number of BatchNormalization layers updated.
    """
    norms = [
        lay for lay in model._flatten_layers() if isinstance(lay, keras.layers.BatchNormalization)
    ]
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
    """Run ``model`` in inference mode over ``inputs`` in batches; return a NumPy array."""
    outputs = [
        np.asarray(model(inputs[i : i + batch_size], training=False))
        for i in range(0, int(inputs.shape[0]), batch_size)
    ]
    return np.concatenate(outputs, axis=0)


def profile_data(dataset, profile=None):
    """Return ``dataset`` cut to the profile's slice sizes (the whole of it under ``full``)."""
    from .profiles import get_profile

    profile = get_profile(profile)
    n_train, n_test = len(dataset.y_train), len(dataset.y_test)
    if profile.n_train is None or (profile.n_train >= n_train and profile.n_test >= n_test):
        return dataset
    return dataset.subset(min(profile.n_train, n_train), min(profile.n_test, n_test))


def train_classifier(
    kind: str,
    dataset,
    *,
    profile=None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    cache=True,
    verbose: int = 1,
) -> keras.Model:
    """Train (or load from the model cache) a reference classifier on a dataset.

    Parameters
    ----------
    kind : {"perfect", "diff"}
        The architecture (see :func:`cladec.build_classifier`).
    dataset : Dataset or str
        A :class:`cladec.datasets.Dataset` or a dataset name.
    profile : str, Profile or None
        The run profile (default: ``CLADEC_PROFILE``); it sets the data slice
        and, unless given, epochs and batch size.
    epochs, batch_size : int or None
        Override the profile.
    seed : int
        Seeds the initial weights and the batch order.
    cache : bool or ModelStore
        Reuse a classifier trained before with identical settings.
    verbose : int
        1 prints one line per epoch and the test accuracy.

    Returns
    -------
    keras.Model
        The trained classifier. ``model.cladec_info`` holds the test
        accuracy, the training time and whether it came from the cache.
    """
    from .architectures import build_classifier
    from .datasets import load_dataset
    from .profiles import get_profile
    from .store import as_store

    profile = get_profile(profile)
    if isinstance(dataset, str):
        dataset = load_dataset(dataset)
    data = profile_data(dataset, profile)
    epochs = profile.epochs_for(kind, dataset.name) if epochs is None else int(epochs)
    batch_size = profile.classifier_batch_size if batch_size is None else int(batch_size)
    store = as_store(cache)
    fields = {
        "kind": "classifier",
        "architecture": kind,
        "dataset": dataset.name,
        "data": data.checksum,
        "optimizer": {"name": "adam", "learning_rate": 1e-3, "epsilon": 1e-4},
        "loss": "normalised_cross_entropy",
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": int(seed),
        "recalibrate_batchnorm": profile.recalibrate_batchnorm,
    }
    label = f"{kind} classifier on {dataset.name}"
    log = _print if verbose else None

    def build():
        seed_everything(seed)
        return build_classifier(kind)

    hit = store.load(fields, build) if store else None
    if hit is not None:
        model, meta = hit
        info = {**meta["metrics"], "from_cache": True, "train_seconds": meta["train_seconds"]}
        if log:
            log(
                f"{label}: loaded from the model cache (trained in {meta['train_seconds']:.0f} s, "
                f"test accuracy {info.get('val_accuracy', float('nan')):.4f})"
            )
    else:
        x_train, x_test = (
            data.x_train[..., None] / np.float32(255),
            data.x_test[..., None] / np.float32(255),
        )
        y_train, y_test = data.y_train, data.y_test
        if log:
            log(
                f"{label}: training {epochs} epochs on {len(x_train)} images ({profile.describe()})"
            )
        model = build()
        metrics = fit_classifier(
            model,
            x_train,
            y_train,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            log=log,
            label=label,
        )
        if profile.recalibrate_batchnorm:
            recalibrate_batchnorm(model, x_train)
        metrics["val_loss"], metrics["val_accuracy"] = evaluate_classifier(model, x_test, y_test)
        info = {**metrics, "from_cache": False, "train_seconds": metrics["seconds"]}
        if store:
            store.save(fields, model, train_seconds=metrics["seconds"], metrics=metrics)
        if log:
            log(
                f"{label}: test accuracy {metrics['val_accuracy']:.4f} after {metrics['seconds']:.0f} s"
            )
    info.update(profile=profile.name, epochs=epochs, batch_size=batch_size, dataset=dataset.name)
    model.cladec_info = info
    return model

"""The explained classifiers, trained once under a profile and then served from the store.

:func:`obtain_classifier` returns the model with a record of where it came
from (trained now, the user's cache, or the shipped pretrained models) and
its test accuracy; :func:`train_classifier` returns just the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from ._logging import reporter
from .architectures import build_classifier
from .datasets import Dataset, load_dataset
from .exceptions import InvalidInputError
from .profiles import Profile, get_profile
from .store import ModelRecord, ModelRequest, Trained, obtain
from .store.keys import architecture_digest, fingerprint_model
from .training import evaluate_classifier, fit_classifier, recalibrate_batchnorm, seed_everything

__all__ = ["TrainedClassifier", "obtain_classifier", "train_classifier", "classifier_fields"]


@dataclass
class TrainedClassifier:
    """A trained classifier and where it came from.

    Parameters
    ----------
    model : keras.Model
        The classifier: float32 ``(N, 28, 28, 1)`` images in [0, 1] to ``(N, 10)`` scores.
    record : ModelRecord
        Its origin (``record.source``, ``record.describe()``) and every epoch's losses.
    dataset : str
        The dataset it was trained on.
    profile : Profile
        The profile it was trained under.
    """

    model: keras.Model
    record: ModelRecord
    dataset: str
    profile: Profile

    @property
    def test_accuracy(self) -> float:
        """Accuracy on the profile's test images, measured after training."""
        return float(self.record.metrics.get("val_accuracy", float("nan")))

    def describe(self) -> str:
        """One line: the classifier, its test accuracy, and where it came from."""
        return (
            f"{self.record.fields['architecture']} classifier on {self.dataset}: test accuracy "
            f"{self.test_accuracy:.4f}, {self.record.describe()}"
        )


def _images(x: np.ndarray) -> np.ndarray:
    return x[..., None] / np.float32(255)


def classifier_fields(
    kind: str, data: Dataset, profile: Profile, epochs: int, batch_size: int, seed: int
) -> dict:
    """The key fields of a classifier: everything that determines its weights.

    Parameters
    ----------
    kind : str
        The architecture, ``"perfect"`` or ``"diff"``, or ``"custom:NAME"``
        for a model built by a function (:func:`obtain_classifier`).
    data : Dataset
        The training data (already cut to the profile's slice); its name and
        checksum enter the key.
    profile : Profile
        Only its ``recalibrate_batchnorm`` setting enters the key.
    epochs, batch_size, seed : int
        The training settings.

    Returns
    -------
    dict
        JSON-serialisable fields: kind, architecture, dataset, data checksum,
        optimizer, loss, epochs, batch size, seed, BatchNorm recalibration.
    """
    return {
        "kind": "classifier",
        "architecture": kind,
        "dataset": data.name,
        "data": data.checksum,
        "optimizer": {"name": "adam", "learning_rate": 1e-3, "epsilon": 1e-4},
        "loss": "normalised_cross_entropy",
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "recalibrate_batchnorm": profile.recalibrate_batchnorm,
    }


def _custom_builder(
    build_model: Callable[[], keras.Model],
) -> tuple[str, Callable[[], keras.Model]]:
    """The name of a custom architecture and its builder, checked once on a fresh model."""
    name = getattr(build_model, "__name__", type(build_model).__name__)
    model = build_model()
    if not isinstance(model, keras.Model):
        raise InvalidInputError(
            f"{name}() returned {type(model).__name__}; it must return an untrained keras.Model"
        )
    if len(model.inputs) != 1 or len(model.input_shape) != 4 or len(model.output_shape) != 2:
        raise InvalidInputError(
            f"{name}() builds a model from {model.input_shape} to {model.output_shape}; accepted: "
            "one image input (N, H, W, C) to class scores (N, K), as (N, 28, 28, 1) -> (N, 10)"
        )
    return f"custom:{name}", build_model


def obtain_classifier(
    kind: str | Callable[[], keras.Model],
    dataset: Dataset | str,
    *,
    profile: str | Profile | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    cache=True,
    verbose: int = 1,
) -> TrainedClassifier:
    """Train (or load from the store) a reference classifier on a dataset.

    Parameters
    ----------
    kind : {"perfect", "diff"} or callable
        The architecture (see :func:`cladec.build_classifier`), or a function
        without arguments that returns an untrained ``keras.Model`` of your
        own, from float32 ``(N, 28, 28, 1)`` images in [0, 1] to ``(N, K)``
        non-negative class scores (softmax or sigmoid outputs). A custom
        model is stored under a hash of its layers' settings and its initial
        weights: change either and it trains anew.
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
        Reuse a classifier trained before with identical settings (the
        user's cache, then the shipped models); ``False`` always trains.
    verbose : int
        1 prints one line per epoch and the test accuracy.

    Returns
    -------
    TrainedClassifier
    """
    profile = get_profile(profile)
    full = load_dataset(dataset) if isinstance(dataset, str) else dataset
    data = profile.slice(full)
    if callable(kind):
        seed_everything(seed)
        kind, build_model = _custom_builder(kind)
    else:
        name = kind

        def build_model():  # an unknown name fails here, with the accepted ones
            return build_classifier(name)

    epochs = profile.epochs_for(kind, full.name) if epochs is None else int(epochs)
    batch_size = profile.classifier_batch_size if batch_size is None else int(batch_size)
    log = reporter(verbose)
    label = f"{kind} classifier on {full.name} (profile {profile.name})"

    def build():
        seed_everything(seed)
        return build_model()

    def train(_requests):
        x_train, x_test = _images(data.x_train), _images(data.x_test)
        if log:
            log(
                f"{label}: training {epochs} epochs on {len(x_train)} images ({profile.describe()})"
            )
        model = build()
        history = fit_classifier(
            model, x_train, data.y_train, epochs=epochs, batch_size=batch_size, log=log, label=label
        )
        if profile.recalibrate_batchnorm:
            recalibrate_batchnorm(model, x_train)
        metrics = history.last()
        metrics["val_loss"], metrics["val_accuracy"] = evaluate_classifier(
            model, x_test, data.y_test
        )
        if log:
            log(
                f"{label}: test accuracy {metrics['val_accuracy']:.4f} after {history.seconds:.0f} s"
            )
        return [Trained(model, history, metrics)]

    fields = classifier_fields(kind, data, profile, epochs, batch_size, seed)
    context = {"dataset": full.name, "profile": profile.name, "n_test": len(data.y_test)}
    # the architecture and the initial weights key the model, so a changed
    # builder (another activation, the same shapes) never gets old weights
    fresh = build()
    fields["layers"] = architecture_digest(fresh)
    fields["init"] = fingerprint_model(fresh)
    if kind.startswith("custom:"):
        # the builder lives in the user's code; the architecture stored beside the
        # weights lets the bundle rebuild the model to measure it
        context["architecture_json"] = fresh.to_json()
    request = ModelRequest(fields, build, label, context)
    [(model, record)] = obtain(cache, [request], train, log=log)
    return TrainedClassifier(model, record, full.name, profile)


def train_classifier(
    kind: str | Callable[[], keras.Model], dataset: Dataset | str, **kwargs
) -> keras.Model:
    """Train (or load) a reference classifier and return the model.

    :func:`obtain_classifier` also returns where the model came from and its
    test accuracy.

    Parameters
    ----------
    kind : {"perfect", "diff"} or callable
        The architecture (see :func:`cladec.build_classifier`), or a function
        returning an untrained ``keras.Model`` of your own (see
        :func:`obtain_classifier`).
    dataset : Dataset or str
        A :class:`cladec.datasets.Dataset` or a dataset name.
    **kwargs
        Passed to :func:`obtain_classifier`: ``profile``, ``epochs``,
        ``batch_size``, ``seed``, ``cache``, ``verbose``.

    Returns
    -------
    keras.Model
        The trained classifier: float32 ``(N, 28, 28, 1)`` images in [0, 1]
        to ``(N, 10)`` scores.
    """
    return obtain_classifier(kind, dataset, **kwargs).model

"""Score a classifier and its explainers on one (dataset, layer) into result rows.

:func:`evaluate_explainers` scores a classifier, its RefAE and its ClaDec
explainers on one (dataset, layer) with the measures of :mod:`cladec.metrics`
and returns one :class:`~cladec.studies.rows.EvaluationRow` per model. The
rows and their CSV files are in :mod:`cladec.studies.rows`; the layout of the
reference results and the comparison with them in
:mod:`cladec.studies.reference`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from .._atomic import array_digest
from .._inputs import as_images, as_labels, check_alpha, image_shape_of
from .._logging import reporter
from .._scores import fidelity_from_predictions, losses_from_arrays
from ..architectures import classifier_kind
from ..exceptions import InvalidInputError
from ..losses import classification_loss
from ..metrics import (
    evaluation_accuracies,
)
from ..profiles import get_profile
from ..training import predict_batched

# re-exported from their new homes, for code that still reads them here
from .csvfiles import run_provenance as run_provenance
from .rows import EvaluationRow
from .rows import read_rows_csv as read_rows_csv
from .rows import write_rows_csv as write_rows_csv

__all__ = ["evaluate_explainers"]


# ---------------------------------------------------------------------------
# One (dataset, layer) at once
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _TestSet:
    """The checked test images of one (dataset, layer) and the classifier's reading of them."""

    dataset: str
    layer: str
    images: np.ndarray  # float32 (N, H, W, C)
    labels: np.ndarray  # int (N,)
    probabilities: np.ndarray  # the classifier's (N, K) scores on the originals
    predictions: np.ndarray  # their argmax, (N,)

    @classmethod
    def score(cls, classifier, dataset: str, layer: str, images, labels) -> _TestSet:
        probabilities = predict_batched(classifier, images)
        return cls(dataset, layer, images, labels, probabilities, probabilities.argmax(axis=1))


def _unpack_data(data, dataset_name):
    if hasattr(data, "x_test"):
        name = dataset_name or getattr(data, "name", "")
        return data.x_train, data.y_train, data.x_test, data.y_test, name
    try:
        x_train, y_train, x_test, y_test = data
    except (TypeError, ValueError):
        raise InvalidInputError(
            "data must be a cladec Dataset or a tuple (x_train, y_train, x_test, y_test); "
            f"got {type(data).__name__}"
        ) from None
    return x_train, y_train, x_test, y_test, dataset_name or ""


def _explained_layer(explainers) -> str:
    layers = {e.layer_name for e in explainers}
    if len(layers) > 1:
        raise InvalidInputError(
            f"the explainers explain different layers {sorted(layers)}; "
            "evaluate one layer at a time"
        )
    return layers.pop() if layers else ""


def _training_set(classifier, x_train, y_train) -> tuple[np.ndarray, np.ndarray]:
    if x_train is None or y_train is None:
        raise InvalidInputError("the evaluation accuracy needs training images and labels")
    images = as_images(x_train, image_shape_of(classifier), name="x_train")
    labels = as_labels(y_train, len(images), int(classifier.output_shape[-1]), name="y_train")
    return images, labels


def _evaluation_architecture(classifier, architecture):
    """The evaluation classifiers' architecture: as given, else the explained classifier's kind."""
    if architecture is not None:
        return architecture
    kind = classifier_kind(classifier)
    if kind is None:
        raise InvalidInputError(
            f"cannot tell the architecture of classifier {classifier.name!r}: pass "
            "architecture= (a name or a function building an untrained model)"
        )
    return kind


def _classifier_row(test: _TestSet, log) -> EvaluationRow:
    """The classifier itself on the test images: its loss and accuracy, as in the reference table."""
    onehot = np.eye(test.probabilities.shape[-1], dtype=np.float32)[test.labels]
    loss = float(np.asarray(classification_loss(onehot, test.probabilities)))
    accuracy = float(np.mean(test.predictions == test.labels))
    if log:
        log(
            f"{test.dataset} / {test.layer}: classifier test loss {loss:.4f}, "
            f"accuracy {accuracy:.4f}"
        )
    return EvaluationRow(
        test.dataset,
        test.layer,
        "classifier",
        None,
        None,
        loss,
        loss,
        accuracy,
        agreement=None,
        accuracy_on_reconstructions=None,
        n_test=len(test.images),
    )


def _what(row: EvaluationRow) -> str:
    return "RefAE" if row.model == "refAE" else f"ClaDec alpha={row.alpha:g}"


def _explainer_row(test: _TestSet, model: str, alpha, x_hat, probabilities, loss_scale: str):
    """The losses of eq. 1 and the fidelity of one explainer's test reconstructions ``x_hat``."""
    terms = losses_from_arrays(test.images, x_hat, probabilities, test.labels, alpha, loss_scale)
    fid = fidelity_from_predictions(test.predictions, probabilities.argmax(axis=1), test.labels)
    return EvaluationRow(
        test.dataset,
        test.layer,
        model,
        alpha,
        terms["reconstruction_loss"],
        terms["classification_loss"],
        terms["total_loss"],
        None,
        fid["agreement"],
        fid["accuracy_on_reconstructions"],
        loss_scale=loss_scale,
        n_test=len(test.images),
    )


def _eval_context(test: _TestSet, explainer, profile) -> dict:
    """What an evaluation classifier's store entry records about its inputs (for re-measuring it)."""
    context = {"dataset": test.dataset, "layer": test.layer}
    if getattr(explainer, "record", None) is not None:
        context["explainer_key"] = explainer.record.key
    if profile is not None:
        context["profile"] = get_profile(profile).name
    return context


def _reconstructions_id(explainer, images_train, labels_train, test: _TestSet) -> str | None:
    """Name the reconstructions by the stored explainer that makes them and the images it gets.

    Reconstructions are float outputs whose last bits may differ on another
    CPU; a hash of them would miss the shipped evaluation classifiers there.
    The explainer's store key and the original images identify them exactly.
    """
    key = getattr(getattr(explainer, "record", None), "key", "")
    if not key:
        return None
    return array_digest(
        images_train, labels_train, test.images, test.labels, salt=f"reconstructed by {key}"
    )


def _evaluation_set(row, explainer, x_hat_test, test: _TestSet, train, profile) -> dict:
    """What the evaluation classifier of one explainer trains and is tested on."""
    images_train, _ = train
    data_id = _reconstructions_id(explainer, images_train, train[1], test)

    def reconstructions():
        return explainer.reconstruct(images_train)

    return {
        # named by data_id, a stored classifier needs no pass over the training set
        "x_hat_train": reconstructions if data_id else reconstructions(),
        "x_hat_test": x_hat_test,
        "label": f"evaluation classifier ({test.dataset} / {test.layer}, {_what(row)})",
        "context": _eval_context(test, explainer, profile),
        "data_id": data_id,
    }


def _score_explainer(classifier, test: _TestSet, model, alpha, explainer):
    """One explainer's row (eq. 1 losses, fidelity) and its test reconstructions."""
    x_hat = explainer.reconstruct(test.images)
    probabilities = predict_batched(classifier, x_hat)
    return _explainer_row(test, model, alpha, x_hat, probabilities, explainer.loss_scale), x_hat


def _log_row(row: EvaluationRow, log) -> None:
    acc = row.evaluation_accuracy
    acc = "" if acc is None else f", evaluation accuracy {acc:.4f}"
    log(
        f"{row.dataset} / {row.layer}: {_what(row)}: reconstruction loss "
        f"{row.reconstruction_loss:.4g}, classification loss {row.classification_loss:.4f}, "
        f"agreement {row.agreement:.4f}{acc}"
    )


def evaluate_explainers(
    classifier: keras.Model,
    data,
    refae=None,
    cladecs: Mapping[float, Any] | None = None,
    *,
    dataset: str | None = None,
    evaluate_accuracy: bool = True,
    architecture: str | Callable[[], keras.Model] | None = None,
    eval_epochs: int | None = None,
    eval_batch_size: int = 32,
    profile=None,
    recalibrate_batchnorm: bool | None = None,
    seed: int = 0,
    cache=True,
    verbose: int = 1,
    side_by_side: bool = True,
) -> list[EvaluationRow]:
    """Score a classifier, its RefAE and its ClaDec explainers on one (dataset, layer).

    Parameters
    ----------
    classifier : keras.Model
        The explained classifier.
    data : Dataset or tuple
        A :class:`cladec.Dataset` (possibly a subset) or ``(x_train, y_train,
        x_test, y_test)``: uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)``
        images and int ``(N,)`` labels. The training images are only used
        for the evaluation accuracy.
    refae : RefAE or None
        The fitted reference autoencoder of the layer.
    cladecs : dict or None
        ``{alpha: fitted ClaDec}`` of the same layer.
    dataset : str or None
        Name for the rows; default: ``data.name``.
    evaluate_accuracy : bool
        Train an evaluation classifier per model (:func:`cladec.metrics.evaluation_accuracy`);
        False skips it (``evaluation_accuracy`` is then None except for the classifier).
    architecture : str, callable or None
        Of the evaluation classifiers; default: the explained classifier's
        kind (``"perfect"`` / ``"diff"``).
    eval_epochs, eval_batch_size, profile, recalibrate_batchnorm, seed, cache
        Passed to :func:`cladec.metrics.evaluation_accuracies`.
    verbose : int
        1 logs progress lines.
    side_by_side : bool
        Train the evaluation classifiers not in the store in one pass
        (default), or one after another; either way they share store keys.

    Returns
    -------
    list of EvaluationRow
        The classifier, the RefAE (if given), then each alpha in the order of ``cladecs``.
    """
    models = ([("refAE", None, refae)] if refae is not None else []) + [
        ("cladec", check_alpha(a), e) for a, e in dict(cladecs or {}).items()
    ]
    layer = _explained_layer(explainer for *_, explainer in models)
    x_train, y_train, x_test, y_test, name = _unpack_data(data, dataset)
    images = as_images(x_test, image_shape_of(classifier), name="x_test")
    labels = as_labels(y_test, len(images), int(classifier.output_shape[-1]), name="y_test")
    train = None
    if evaluate_accuracy and models:  # refused here, before anything is scored
        train = _training_set(classifier, x_train, y_train)
        architecture = _evaluation_architecture(classifier, architecture)
    log = reporter(verbose)
    test = _TestSet.score(classifier, name, layer, images, labels)
    rows = [_classifier_row(test, log)]
    sets = []
    for model, alpha, explainer in models:
        row, x_hat = _score_explainer(classifier, test, model, alpha, explainer)
        rows.append(row)
        if train is not None:
            sets.append(_evaluation_set(row, explainer, x_hat, test, train, profile))
    if sets:
        # one pass for the layer's classifiers: cheaper than one fit each (results page)
        results = evaluation_accuracies(
            sets,
            train[1],
            test.labels,
            architecture=architecture,
            epochs=eval_epochs,
            batch_size=eval_batch_size,
            seed=seed,
            profile=profile,
            recalibrate_batchnorm=recalibrate_batchnorm,
            cache=cache,
            verbose=verbose,
            side_by_side=side_by_side,
        )
        for row, result in zip(rows[1:], results):
            row.evaluation_accuracy = result["accuracy"]
            row.eval_epochs = result["epochs"]
            row.eval_from_cache = result["from_cache"]
    if log:
        for row in rows[1:]:
            _log_row(row, log)
    return rows

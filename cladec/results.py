"""Result rows: the scores of a classifier and its explainers, their CSV files and provenance.

:func:`evaluate_explainers` scores a classifier, its RefAE and its ClaDec
explainers on one (dataset, layer) with the measures of :mod:`cladec.metrics`
and returns one :class:`EvaluationRow` per model. :func:`write_rows_csv` and
:func:`read_rows_csv` store the rows in our own layout, one column per field,
after ``# key: value`` provenance lines (:func:`run_provenance`). The layout
of the reference results and the comparison with them are in
:mod:`cladec.reference`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ._atomic import array_digest, atomic_file
from ._inputs import as_images, as_labels, check_alpha, image_shape_of
from ._logging import reporter
from ._ownership import check_output_file
from .architectures import classifier_kind
from .losses import classification_loss
from .metrics import (
    evaluation_accuracies,
    fidelity_from_predictions,
    losses_from_arrays,
)
from .profiles import get_profile
from .store import versions
from .training import predict_batched

__all__ = [
    "MODEL_KINDS",
    "EvaluationRow",
    "evaluate_explainers",
    "read_rows_csv",
    "run_provenance",
    "write_rows_csv",
]

#: Values of :attr:`EvaluationRow.model`.
MODEL_KINDS: tuple[str, ...] = ("classifier", "refAE", "cladec")


@dataclass
class EvaluationRow:
    """The scores of one model on one (dataset, layer): a row of a results table.

    Parameters
    ----------
    dataset : str
        ``"mnist"``, ``"fashion_mnist"``, ...
    layer : str
        The explained layer, e.g. ``"my_dense"``.
    model : {"classifier", "refAE", "cladec"}
        What is scored. ``"classifier"``: the classifier itself on the test
        images (its loss goes in ``classification_loss`` and ``total_loss``,
        its accuracy in ``evaluation_accuracy``, as in the reference table).
    alpha : float or None
        ClaDec's alpha; None for the classifier and the RefAE.
    reconstruction_loss, classification_loss, total_loss : float or None
        The losses of eq. 1 on the test set (:func:`cladec.metrics.loss_terms`). For a
        RefAE ``total_loss`` equals ``reconstruction_loss`` and
        ``classification_loss`` is the classifier's loss on its output
        (which the reference layout leaves out).
    evaluation_accuracy : float or None
        Test accuracy of a fresh classifier trained on reconstructions
        (:func:`cladec.metrics.evaluation_accuracy`); None when not computed.
    agreement, accuracy_on_reconstructions : float or None
        :func:`cladec.metrics.fidelity` of the reconstructions of the test images.
    loss_scale : {"sse", "mse"}
        Scale of the reconstruction loss.
    n_test : int or None
        Number of test images scored.
    eval_epochs : int or None
        Epochs of the evaluation classifier.
    eval_from_cache : bool or None
        Whether the evaluation classifier came from the model cache.
    """

    dataset: str
    layer: str
    model: str
    alpha: float | None = None
    reconstruction_loss: float | None = None
    classification_loss: float | None = None
    total_loss: float | None = None
    evaluation_accuracy: float | None = None
    agreement: float | None = None
    accuracy_on_reconstructions: float | None = None
    loss_scale: str = "sse"
    n_test: int | None = None
    eval_epochs: int | None = None
    eval_from_cache: bool | None = None

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}; got {self.model!r}")
        if self.model == "cladec":
            if self.alpha is None:
                raise ValueError("a 'cladec' row needs its alpha")
            self.alpha = check_alpha(self.alpha)
        elif self.alpha is not None:
            raise ValueError(f"a {self.model!r} row has no alpha; got alpha={self.alpha!r}")

    @property
    def label(self) -> str:
        """Short display name: ``"classifier"``, ``"RefAE"`` or ``"alpha = 0.99"``."""
        if self.model == "cladec":
            return f"alpha = {self.alpha:g}"
        return "RefAE" if self.model == "refAE" else "classifier"


_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(EvaluationRow))
_INT_FIELDS = {"n_test", "eval_epochs"}
_BOOL_FIELDS = {"eval_from_cache"}
_STR_FIELDS = {"dataset", "layer", "model", "loss_scale"}


def _format_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _parse_float(text: str) -> float | None:
    text = text.strip()
    return None if text == "" else float(text)


def _write_provenance(handle, provenance: Mapping[str, Any] | None) -> None:
    for key, value in (provenance or {}).items():
        key_text = str(key).replace(":", "_").replace("\n", " ").strip()
        value_text = " ".join(str(value).split())
        handle.write(f"# {key_text}: {value_text}\n")


def _split_provenance(text: str) -> tuple[dict, str]:
    provenance: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    body_start = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, sep, value = stripped[1:].partition(":")
            if sep:
                provenance[key.strip()] = value.strip()
            body_start = i + 1
        elif stripped == "":
            body_start = i + 1
        else:
            break
    return provenance, "".join(lines[body_start:])


def _write_csv(path, provenance, header, body) -> Path:
    """Provenance comments, a header and the rows, written atomically in one go."""
    buffer = io.StringIO()
    _write_provenance(buffer, provenance)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    path = Path(path)
    check_output_file(path)
    with atomic_file(path, "w") as handle:
        handle.write(buffer.getvalue())
    return path


def write_rows_csv(
    rows: Iterable[EvaluationRow],
    path: str | os.PathLike,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write result rows to a CSV file, atomically (one column per :class:`EvaluationRow` field).

    Parameters
    ----------
    rows : iterable of EvaluationRow
    path : path-like
        The file; its folder is created.
    provenance : mapping or None
        Written first as ``# key: value`` comment lines (profile, versions, date...).

    Returns
    -------
    pathlib.Path
        ``path``.
    """

    def cells(row):
        if not isinstance(row, EvaluationRow):
            raise ValueError(f"rows must be EvaluationRow objects; got {type(row).__name__}")
        return [_format_cell(getattr(row, name)) for name in _ROW_FIELDS]

    return _write_csv(path, provenance, _ROW_FIELDS, map(cells, rows))


def read_rows_csv(path: str | os.PathLike, *, provenance: bool = False):
    """Read rows written by :func:`write_rows_csv`.

    Parameters
    ----------
    path : path-like
    provenance : bool
        Also return the ``# key: value`` lines as a dict.

    Returns
    -------
    list of EvaluationRow, or (list of EvaluationRow, dict) when ``provenance`` is True.
    """
    meta, body = _split_provenance(Path(path).read_text())
    reader = csv.DictReader(io.StringIO(body))
    missing = {"dataset", "layer", "model"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(
            f"{path} is not a rows CSV of cladec: columns {sorted(missing)} are missing"
        )
    rows = []
    for record in reader:
        values: dict[str, Any] = {}
        for name in _ROW_FIELDS:
            if name not in record:
                continue
            text = (record[name] or "").strip()
            if name in _STR_FIELDS:
                values[name] = text
            elif text == "":
                values[name] = None
            elif name in _INT_FIELDS:
                values[name] = int(text)
            elif name in _BOOL_FIELDS:
                values[name] = text == "True"
            else:
                values[name] = float(text)
        rows.append(EvaluationRow(**values))
    return (rows, meta) if provenance else rows


def run_provenance(profile, **extra) -> dict:
    """Provenance lines for a results file: versions, profile, machine, date.

    Parameters
    ----------
    profile : str or Profile
        The run profile.
    **extra
        More ``key=value`` pairs to record (dataset sizes, seed, command...).

    Returns
    -------
    dict
        str keys and values, in a stable order: ``cladec``, ``keras``,
        ``tensorflow``, ``numpy``, ``python``, ``machine``, ``profile``,
        ``created``, then ``extra``. Pass it to the ``provenance`` argument
        of the CSV writers.
    """
    info = {
        **versions(),
        "profile": get_profile(profile).describe(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    info.update({str(k): str(v) for k, v in extra.items()})
    return info


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
        raise ValueError(
            "data must be a cladec Dataset or a tuple (x_train, y_train, x_test, y_test); "
            f"got {type(data).__name__}"
        ) from None
    return x_train, y_train, x_test, y_test, dataset_name or ""


def _explained_layer(explainers) -> str:
    layers = {e.layer_name for e in explainers}
    if len(layers) > 1:
        raise ValueError(
            f"the explainers explain different layers {sorted(layers)}; "
            "evaluate one layer at a time"
        )
    return layers.pop() if layers else ""


def _training_set(classifier, x_train, y_train) -> tuple[np.ndarray, np.ndarray]:
    if x_train is None or y_train is None:
        raise ValueError("the evaluation accuracy needs training images and labels")
    images = as_images(x_train, image_shape_of(classifier), name="x_train")
    labels = as_labels(y_train, len(images), int(classifier.output_shape[-1]), name="y_train")
    return images, labels


def _evaluation_architecture(classifier, architecture):
    """The evaluation classifiers' architecture: as given, else the explained classifier's kind."""
    if architecture is not None:
        return architecture
    kind = classifier_kind(classifier)
    if kind is None:
        raise ValueError(
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

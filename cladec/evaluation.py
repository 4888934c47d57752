"""Evaluate explanations: eq. 1 losses, retrained-classifier accuracy, fidelity, result tables.

The reference run (``method.md`` §7) scores every (dataset, layer) on the test
set with, for the RefAE and for every alpha of ClaDec:

* the reconstruction loss (sum of squared errors per image, averaged over the
  images), the classifier's cross-entropy on the reconstructions, and their
  blend, the total loss of eq. 1 (:func:`loss_terms`);
* the *evaluation accuracy*: a fresh classifier of the same architecture is
  trained on the reconstructions of the training images and tested on the
  reconstructions of the test images (:func:`evaluation_accuracy`). It measures
  how much class information the reconstructions keep.

This module adds :func:`fidelity` (does the classifier read the
reconstruction as it reads the original?), plain result rows
(:class:`EvaluationRow`), CSV files in our own layout and in the exact layout of
the reference results (:func:`write_reference_csv`), the reference results
themselves (:func:`load_reference_table`), and a cell-by-cell comparison with
stated tolerances (:func:`compare_with_reference`).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from . import training as _training
from ._atomic import atomic_file
from ._inputs import as_images, as_labels, check_alpha
from .losses import check_loss_scale, classification_loss, reconstruction_loss
from .store import ModelStore, as_store, fingerprint_model
from .training import evaluate_classifier, fit_classifier, predict_batched, seed_everything

__all__ = [
    "ALPHA_GRID",
    "EVAL_METRICS",
    "MODEL_KINDS",
    "RECONSTRUCTION_REL_TOL",
    "EvaluationRow",
    "alpha_header",
    "as_rows",
    "header_alpha",
    "compare_with_reference",
    "evaluate_explainers",
    "evaluation_accuracy",
    "fidelity",
    "load_reference_table",
    "loss_terms",
    "predict_labels",
    "read_reference_csv",
    "read_rows_csv",
    "reference_layout",
    "rows_from_reference",
    "run_provenance",
    "table_alphas",
    "write_comparison_csv",
    "write_reference_csv",
    "write_rows_csv",
]

#: The alphas of the reference run, as fractions (the CSV headers are percent).
ALPHA_GRID: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.99, 0.999, 0.9999, 1.0)

#: The ``eval`` rows of the reference layout, in the reference order.
EVAL_METRICS: tuple[str, ...] = (
    "total_loss",
    "reconstruction_loss",
    "classification_loss",
    "evaluation_accuracy",
)

#: How far above the reference run's test reconstruction loss ours may be, as a
#: fraction (alpha <= 0.99; the ``full`` profile's target, judged on the results page).
RECONSTRUCTION_REL_TOL = 0.15

#: Values of :attr:`EvaluationRow.model`.
MODEL_KINDS: tuple[str, ...] = ("classifier", "refAE", "cladec")

_KEY_COLUMNS = ("dataset", "layer", "eval")
_FIXED_COLUMNS = ("classifier", "refAE")
_REFERENCE_FILE = "seed_evaluation_result.csv"


def _log(verbose) -> Callable[[str], None] | None:
    return (lambda message: print(message, flush=True)) if verbose else None


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def predict_labels(classifier: keras.Model, x, *, batch_size: int = 512) -> np.ndarray:
    """Return the classes a classifier predicts for images ``x``.

    Parameters
    ----------
    classifier : keras.Model
        Maps float32 ``(N, H, W, C)`` images to ``(N, K)`` class scores.
    x : ndarray
        uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1] (any
        ``(H, W, C)`` the classifier takes).
    batch_size : int
        Images per forward pass (inference mode).

    Returns
    -------
    ndarray
        int64 ``(N,)``, the argmax of the class scores.
    """
    images = as_images(x, _image_shape(classifier))
    return predict_batched(classifier, images, batch_size).argmax(axis=1).astype(np.int64)


def _image_shape(classifier) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in classifier.input_shape[1:])
    if len(shape) != 3:
        raise ValueError(
            f"classifier input must be images (H, W, C); got input shape {classifier.input_shape}"
        )
    return shape  # type: ignore[return-value]


def _resolve_reconstructions(source, images: np.ndarray, batch_size: int) -> np.ndarray:
    if hasattr(source, "reconstruct"):
        return np.asarray(source.reconstruct(images, batch_size=batch_size), dtype=np.float32)
    x_hat = as_images(source, images.shape[1:], name="x_hat")
    if x_hat.shape != images.shape:
        raise ValueError(
            f"x_hat must hold one reconstruction per image of x, shape {images.shape}; "
            f"got shape {x_hat.shape}"
        )
    return x_hat


def _losses_from_arrays(
    images: np.ndarray,
    x_hat: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    alpha: float | None,
    loss_scale: str,
    batch_size: int = 2048,
) -> dict:
    num_classes = probabilities.shape[-1]
    rec_parts, cls_parts = [], []
    for begin in range(0, len(images), batch_size):
        batch = slice(begin, begin + batch_size)
        rec = reconstruction_loss(images[batch], x_hat[batch], loss_scale, reduce=False)
        rec_parts.append(np.asarray(rec))
        onehot = np.eye(num_classes, dtype=np.float32)[labels[batch]]
        cls = classification_loss(onehot, probabilities[batch], reduce=False)
        cls_parts.append(np.asarray(cls))
    rec = float(np.mean(np.concatenate(rec_parts), dtype=np.float64))
    cls = float(np.mean(np.concatenate(cls_parts), dtype=np.float64))
    total = rec if alpha is None else (1.0 - alpha) * rec + alpha * cls
    return {
        "reconstruction_loss": rec,
        "classification_loss": cls,
        "total_loss": float(total),
        "alpha": alpha,
        "loss_scale": loss_scale,
        "n_images": int(len(images)),
    }


def loss_terms(
    source,
    x,
    y,
    classifier: keras.Model | None = None,
    alpha: float | None = None,
    *,
    loss_scale: str | None = None,
    batch_size: int = 512,
) -> dict:
    """The three losses of eq. 1 on a test set.

    ``total = (1 - alpha) * reconstruction + alpha * classification``, where
    the reconstruction loss is the squared error per image (summed over
    pixels for ``"sse"``, the reference scale; averaged for ``"mse"``) and the
    classification loss the categorical cross-entropy of the frozen
    classifier (inference mode) on the reconstructions, both averaged over
    the images.

    Parameters
    ----------
    source : ClaDec, RefAE or ndarray
        A fitted explainer (its ``reconstruct`` is called on ``x``) or the
        reconstructions themselves, float32 ``(N, 28, 28, 1)`` in [0, 1].
    x : ndarray
        The original images, uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1].
    y : ndarray
        int ``(N,)`` class labels (or one-hot ``(N, K)``).
    classifier : keras.Model or None
        The classifier scoring the reconstructions; default: the explainer's.
    alpha : float or None
        Weight of the classification loss. Default: the explainer's
        ``alpha``. ``None`` (a RefAE, or arrays without an alpha) means no
        classification term: ``total_loss`` is the reconstruction loss, the
        convention of the reference results. The classifier's loss on the
        reconstructions is still reported.
    loss_scale : {"sse", "mse"} or None
        Default: the explainer's ``loss_scale``, else ``"sse"``.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    dict
        ``reconstruction_loss``, ``classification_loss``, ``total_loss``
        (floats), ``alpha`` (float or None), ``loss_scale`` (str),
        ``n_images`` (int).

    Examples
    --------
    >>> terms = loss_terms(explainer, ds.x_test, ds.y_test)  # doctest: +SKIP
    >>> terms["reconstruction_loss"]                          # doctest: +SKIP
    20.5
    """
    is_explainer = hasattr(source, "reconstruct")
    if is_explainer:
        classifier = classifier if classifier is not None else source.classifier
        if alpha is None:
            alpha = getattr(source, "alpha", None)
        if loss_scale is None:
            loss_scale = getattr(source, "loss_scale", "sse")
    if classifier is None:
        raise ValueError(
            "loss_terms needs the classifier when given reconstructions instead of an explainer"
        )
    loss_scale = check_loss_scale(loss_scale or "sse")
    alpha = None if alpha is None else check_alpha(alpha)
    images = as_images(x, _image_shape(classifier))
    x_hat = _resolve_reconstructions(source, images, batch_size)
    labels = as_labels(y, len(images), int(classifier.output_shape[-1]))
    probabilities = predict_batched(classifier, x_hat, batch_size)
    return _losses_from_arrays(images, x_hat, probabilities, labels, alpha, loss_scale)


def _fidelity_from_predictions(pred_x, pred_hat, labels) -> dict:
    result = {
        "agreement": float(np.mean(pred_x == pred_hat)),
        "accuracy_on_reconstructions": None,
        "accuracy_on_originals": None,
        "n_images": int(len(pred_x)),
    }
    if labels is not None:
        result["accuracy_on_reconstructions"] = float(np.mean(pred_hat == labels))
        result["accuracy_on_originals"] = float(np.mean(pred_x == labels))
    return result


def fidelity(classifier: keras.Model, x, x_hat, y=None, *, batch_size: int = 512) -> dict:
    """How faithfully the classifier reads the reconstructions as it reads the originals.

    Parameters
    ----------
    classifier : keras.Model
        Maps float32 ``(N, 28, 28, 1)`` images to ``(N, K)`` class scores.
    x : ndarray
        Originals, uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1].
    x_hat : ndarray or explainer
        Reconstructions of ``x`` of the same shape, or a fitted explainer
        whose ``reconstruct(x)`` gives them.
    y : ndarray or None
        int ``(N,)`` labels; when given, accuracies are reported too.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    dict
        ``agreement``: fraction of images whose predicted class on ``x_hat``
        equals the one on ``x`` (float in [0, 1]);
        ``accuracy_on_reconstructions`` and ``accuracy_on_originals`` (float,
        or None without ``y``); ``n_images`` (int).
    """
    images = as_images(x, _image_shape(classifier))
    reconstructions = _resolve_reconstructions(x_hat, images, batch_size)
    labels = None if y is None else as_labels(y, len(images), int(classifier.output_shape[-1]))
    pred_x = predict_batched(classifier, images, batch_size).argmax(axis=1)
    pred_hat = predict_batched(classifier, reconstructions, batch_size).argmax(axis=1)
    return _fidelity_from_predictions(pred_x, pred_hat, labels)


# ---------------------------------------------------------------------------
# Evaluation accuracy: a fresh classifier trained on reconstructions
# ---------------------------------------------------------------------------


def _array_digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for arr in arrays:
        arr = np.ascontiguousarray(arr)
        digest.update(f"{arr.dtype.str}{arr.shape}".encode())
        digest.update(arr.reshape(-1).view(np.uint8))
    return digest.hexdigest()


def _architecture_builder(architecture) -> tuple[str, Callable[[], keras.Model]]:
    if callable(architecture) and not isinstance(architecture, str):
        name = getattr(architecture, "__qualname__", type(architecture).__name__)
        return f"custom:{name}", architecture
    from .architectures import build_classifier

    build_classifier(architecture)  # validates the name, with a helpful error
    return str(architecture), lambda: build_classifier(architecture)


def evaluation_accuracy(
    x_hat_train,
    y_train,
    x_hat_test,
    y_test,
    *,
    architecture: str | Callable[[], keras.Model] = "perfect",
    epochs: int | None = None,
    batch_size: int = 32,
    seed: int = 0,
    profile=None,
    recalibrate_batchnorm: bool | None = None,
    cache=True,
    verbose: int = 1,
    label: str = "evaluation classifier",
) -> dict:
    """Train a fresh classifier on reconstructions of the training images; test it on the test ones.

    The reference run's measure of how much class information reconstructions
    keep (``method.md`` §7). The result is cached in the model store: a call
    with identical arrays and settings skips training and returns the
    recorded test accuracy.

    Parameters
    ----------
    x_hat_train : ndarray
        Reconstructions of the training images, float32 ``(N, 28, 28, 1)``
        in [0, 1] (uint8 ``(N, 28, 28)`` originals are accepted too, as a baseline).
    y_train : ndarray
        int ``(N,)`` labels of the training images.
    x_hat_test : ndarray
        Reconstructions of the test images, float32 ``(M, 28, 28, 1)``.
    y_test : ndarray
        int ``(M,)`` labels of the test images.
    architecture : {"perfect", "diff"} or callable
        The classifier to train, built by :func:`cladec.build_classifier`;
        or a function returning an untrained ``keras.Model``.
    epochs : int or None
        Default: the profile's ``eval_epochs`` (the reference run: 10).
    batch_size : int
        Reference: 32.
    seed : int
        Seeds the initial weights and the batch order.
    profile : str, Profile or None
        Supplies the defaults of ``epochs`` and ``recalibrate_batchnorm``
        (default: ``CLADEC_PROFILE``).
    recalibrate_batchnorm : bool or None
        Re-estimate the BatchNorm statistics on the training reconstructions
        after training (needed after very short training; the reference run
        does not). Default: the profile's setting.
    cache : bool or ModelStore
        ``True``: the store under ``CLADEC_HOME``; ``False``: always train.
    verbose : int
        1 prints one line per epoch and the result; 0 is silent.
    label : str
        Names the classifier in the printed lines.

    Returns
    -------
    dict
        ``accuracy`` and ``loss`` on the test reconstructions (float),
        ``train_accuracy`` (float, last epoch), ``from_cache`` (bool),
        ``train_seconds`` (float), ``epochs``, ``batch_size``, ``seed``,
        ``n_train``, ``n_test`` (int), ``recalibrate_batchnorm`` (bool),
        ``architecture`` (str) and ``key`` (the store key, str).
    """
    from .profiles import get_profile

    profile = get_profile(profile)
    epochs = profile.eval_epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1; got {epochs}")
    recalibrate = bool(
        profile.recalibrate_batchnorm if recalibrate_batchnorm is None else recalibrate_batchnorm
    )
    arch_name, build_model = _architecture_builder(architecture)

    def build() -> keras.Model:
        seed_everything(seed)
        return build_model()

    fresh = build()
    image_shape = _image_shape(fresh)
    num_classes = int(fresh.output_shape[-1])
    x_train = as_images(x_hat_train, image_shape, name="x_hat_train")
    x_test = as_images(x_hat_test, image_shape, name="x_hat_test")
    y_tr = as_labels(y_train, len(x_train), num_classes, name="y_train")
    y_te = as_labels(y_test, len(x_test), num_classes, name="y_test")

    fields = {
        "kind": "eval_classifier",
        "architecture": arch_name,
        "init": fingerprint_model(fresh),
        "data": _array_digest(x_train, y_tr, x_test, y_te),
        "optimizer": {"name": "adam", "learning_rate": 1e-3, "epsilon": 1e-4},
        "loss": "normalised_cross_entropy",  # what fit_classifier trains with
        "epochs": epochs,
        "batch_size": int(batch_size),
        "seed": int(seed),
        "recalibrate_batchnorm": recalibrate,
    }
    store = as_store(cache)
    log = _log(verbose)
    result = {
        "epochs": epochs,
        "batch_size": int(batch_size),
        "seed": int(seed),
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "recalibrate_batchnorm": recalibrate,
        "architecture": arch_name,
        "key": ModelStore.key(fields),
    }
    hit = store.load(fields, build) if store is not None else None
    if hit is not None:
        _, meta = hit
        metrics = meta["metrics"]
        result.update(
            accuracy=float(metrics["val_accuracy"]),
            loss=float(metrics["val_loss"]),
            train_accuracy=float(metrics.get("accuracy", float("nan"))),
            from_cache=True,
            train_seconds=float(meta["train_seconds"]),
        )
        if log:
            log(
                f"{label}: loaded from the model cache (trained in "
                f"{result['train_seconds']:.0f} s), test accuracy {result['accuracy']:.4f}"
            )
        return result

    if log:
        log(
            f"{label}: training a fresh {arch_name} classifier {epochs} epochs on "
            f"{len(x_train)} reconstructions"
        )
    model = fresh
    metrics = fit_classifier(
        model, x_train, y_tr, epochs=epochs, batch_size=batch_size, seed=seed, log=log, label=label
    )
    if recalibrate:
        _training.recalibrate_batchnorm(model, x_train)
    metrics["val_loss"], metrics["val_accuracy"] = evaluate_classifier(model, x_test, y_te)
    if store is not None:
        store.save(fields, model, train_seconds=metrics["seconds"], metrics=metrics)
    result.update(
        accuracy=float(metrics["val_accuracy"]),
        loss=float(metrics["val_loss"]),
        train_accuracy=float(metrics["accuracy"]),
        from_cache=False,
        train_seconds=float(metrics["seconds"]),
    )
    if log:
        log(
            f"{label}: test accuracy {result['accuracy']:.4f} after {result['train_seconds']:.0f} s"
        )
    return result


# ---------------------------------------------------------------------------
# Result rows
# ---------------------------------------------------------------------------


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
        The losses of eq. 1 on the test set (:func:`loss_terms`). For a
        RefAE ``total_loss`` equals ``reconstruction_loss`` and
        ``classification_loss`` is the classifier's loss on its output
        (which the reference layout leaves out).
    evaluation_accuracy : float or None
        Test accuracy of a fresh classifier trained on reconstructions
        (:func:`evaluation_accuracy`); None when not computed.
    agreement, accuracy_on_reconstructions : float or None
        :func:`fidelity` of the reconstructions of the test images.
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


def _write_text_atomic(path, text: str) -> Path:
    path = Path(path)
    with atomic_file(path, "w") as handle:
        handle.write(text)
    return path


def _write_csv(path, provenance, header, body) -> Path:
    """Provenance comments, a header and the rows, written atomically in one go."""
    buffer = io.StringIO()
    _write_provenance(buffer, provenance)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return _write_text_atomic(path, buffer.getvalue())


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


# ---------------------------------------------------------------------------
# The reference layout
# ---------------------------------------------------------------------------


def alpha_header(alpha: float) -> str:
    """The column header of an alpha in the reference layout: percent, padded to two characters.

    Parameters
    ----------
    alpha : float
        In [0, 1].

    Returns
    -------
    str
        ``0 -> " 0"``, ``0.05 -> " 5"``, ``0.1 -> "10"``, ``0.999 -> "99.9"``, ``1 -> "100"``.
    """
    percent = round(check_alpha(alpha) * 100.0, 8)
    return format(percent, ".10g").rjust(2)


def header_alpha(header: str) -> float | None:
    """The alpha (a fraction) of a reference-layout column header, or None for other columns.

    Parameters
    ----------
    header : str
        E.g. ``" 5"`` or ``"99.99"``.

    Returns
    -------
    float or None
        ``" 5" -> 0.05``; ``"refAE" -> None``.
    """
    try:
        percent = float(str(header).strip())
    except ValueError:
        return None
    if not 0.0 <= percent <= 100.0:
        return None
    return round(percent / 100.0, 10)


def table_alphas(table: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
    """The alpha columns of a reference-layout table, in column order.

    Parameters
    ----------
    table : list of dict
        As returned by :func:`reference_layout` or :func:`read_reference_csv`.

    Returns
    -------
    list of (str, float)
        ``(header, alpha)`` pairs, e.g. ``[(" 0", 0.0), (" 1", 0.01), ...]``.
    """
    if not table:
        return []
    pairs = []
    for key in table[0]:
        if key in _KEY_COLUMNS or key in _FIXED_COLUMNS:
            continue
        alpha = header_alpha(key)
        if alpha is not None:
            pairs.append((key, alpha))
    return pairs


def reference_layout(
    rows: Iterable[EvaluationRow], alphas: Sequence[float] | None = None
) -> list[dict]:
    """Arrange result rows as the reference table (``seed_evaluation_result.csv``).

    One row per (dataset, layer, eval) with eval in ``total_loss``,
    ``reconstruction_loss``, ``classification_loss``, ``evaluation_accuracy``;
    columns ``dataset``, ``layer``, ``eval``, ``classifier``, ``refAE``, then
    one per alpha headed in percent (:func:`alpha_header`). The classifier
    column holds the classifier's own test loss (total and classification
    rows) and accuracy; it is empty for the reconstruction loss. The RefAE
    column is empty for the classification loss, and its total loss is its
    reconstruction loss.

    Parameters
    ----------
    rows : iterable of EvaluationRow
        (dataset, layer) blocks appear in the order of their first row.
    alphas : sequence of float or None
        The alpha columns; default: every alpha of the rows, ascending.

    Returns
    -------
    list of dict
        Keys are the column headers (str); values are float, None (an
        empty cell) or, for the three key columns, str.

    Raises
    ------
    ValueError
        If two rows describe the same (dataset, layer, model, alpha).
    """
    rows = list(rows)
    blocks: dict[tuple[str, str], dict] = {}
    for row in rows:
        if not isinstance(row, EvaluationRow):
            raise ValueError(f"rows must be EvaluationRow objects; got {type(row).__name__}")
        block = blocks.setdefault((row.dataset, row.layer), {})
        key = (row.model, row.alpha)
        if key in block:
            what = row.label if row.model != "classifier" else "the classifier"
            raise ValueError(f"two rows for {what} on {row.dataset} / {row.layer}")
        block[key] = row
    if alphas is None:
        alphas = sorted({row.alpha for row in rows if row.model == "cladec"})
    headers = [alpha_header(a) for a in alphas]
    if len(set(headers)) != len(headers):
        raise ValueError(f"alphas {list(alphas)} give duplicate column headers {headers}")
    table = []
    for (dataset, layer), block in blocks.items():
        clf = block.get(("classifier", None))
        ref = block.get(("refAE", None))
        for metric in EVAL_METRICS:
            record: dict[str, Any] = {"dataset": dataset, "layer": layer, "eval": metric}
            record["classifier"] = _classifier_cell(clf, metric)
            record["refAE"] = _refae_cell(ref, metric)
            for alpha, header in zip(alphas, headers, strict=True):
                row = block.get(("cladec", check_alpha(alpha)))
                record[header] = None if row is None else getattr(row, metric)
            table.append(record)
    return table


def _classifier_cell(row: EvaluationRow | None, metric: str) -> float | None:
    if row is None or metric == "reconstruction_loss":
        return None
    if metric == "evaluation_accuracy":
        return row.evaluation_accuracy
    return row.classification_loss if row.classification_loss is not None else row.total_loss


def _refae_cell(row: EvaluationRow | None, metric: str) -> float | None:
    if row is None or metric == "classification_loss":
        return None
    if metric == "total_loss":
        return row.reconstruction_loss if row.reconstruction_loss is not None else row.total_loss
    return getattr(row, metric)


def _as_table(data) -> list[dict]:
    if isinstance(data, (str, os.PathLike)):
        return read_reference_csv(data)
    data = list(data)
    if data and isinstance(data[0], EvaluationRow):
        return reference_layout(data)
    if data and not (isinstance(data[0], Mapping) and "eval" in data[0]):
        raise ValueError(
            "expected EvaluationRow objects, a reference-layout table (list of dicts with an "
            f"'eval' key) or a CSV path; got a list of {type(data[0]).__name__}"
        )
    return data


def write_reference_csv(
    rows,
    path: str | os.PathLike,
    provenance: Mapping[str, Any] | None = None,
    *,
    alphas: Sequence[float] | None = None,
) -> Path:
    """Write results in the exact layout of the reference ``seed_evaluation_result.csv``.

    Parameters
    ----------
    rows : iterable of EvaluationRow, or a table
        Result rows (arranged with :func:`reference_layout`) or a table
        already in the reference layout (list of dict).
    path : path-like
        The file, written atomically; its folder is created.
    provenance : mapping or None
        Written first as ``# key: value`` comment lines.
    alphas : sequence of float or None
        Alpha columns when ``rows`` are EvaluationRow objects.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    The body has a leading unnamed index column, floats are written with
    full precision (``repr``), empty cells are empty, lines end with ``\\n``:
    writing the values of the reference file reproduces its body byte for byte.
    """
    rows = list(rows)
    if rows and isinstance(rows[0], EvaluationRow):
        table = reference_layout(rows, alphas)
    else:
        table = _as_table(rows)
    if not table:
        raise ValueError("nothing to write: no rows")
    columns = list(table[0])
    body = (
        [str(index), *(_format_cell(record.get(c)) for c in columns)]
        for index, record in enumerate(table)
    )
    return _write_csv(path, provenance, ["", *columns], body)


def read_reference_csv(path: str | os.PathLike, *, provenance: bool = False):
    """Read a table in the reference layout: the shipped reference, or one we wrote.

    Leading ``# key: value`` lines (provenance) are skipped, or returned.

    Parameters
    ----------
    path : path-like
    provenance : bool
        Also return the provenance lines as a dict.

    Returns
    -------
    list of dict, or (list of dict, dict) when ``provenance`` is True
        One dict per row, keyed by the column headers exactly as written
        (``"dataset"``, ``"layer"``, ``"eval"``, ``"classifier"``,
        ``"refAE"``, ``" 0"``, ``" 1"``, ..., ``"100"``); the index column is
        dropped. Numbers are float, empty cells None.
    """
    meta, body = _split_provenance(Path(path).read_text())
    table = _parse_reference_body(body, str(path))
    return (table, meta) if provenance else table


def _parse_reference_body(body: str, where: str) -> list[dict]:
    reader = csv.reader(io.StringIO(body))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{where} is empty: expected a table in the reference layout") from None
    has_index = header and header[0].strip() == ""
    columns = header[1:] if has_index else header
    missing = [c for c in (*_KEY_COLUMNS, *_FIXED_COLUMNS) if c not in columns]
    if missing:
        raise ValueError(
            f"{where} is not in the reference layout: columns {missing} are missing "
            f"(found {columns})"
        )
    table = []
    for line in reader:
        if not line:
            continue
        cells = line[1:] if has_index else line
        record: dict[str, Any] = {}
        if len(cells) != len(columns):
            raise ValueError(
                f"{where}: a row has {len(cells)} cells but the header has {len(columns)} "
                f"columns: {line}"
            )
        for column, cell in zip(columns, cells, strict=True):
            record[column] = cell if column in _KEY_COLUMNS else _parse_float(cell)
        table.append(record)
    return table


def load_reference_table(*, provenance: bool = False):
    """The results of the reference run (Keras, TF 2.9, July 2022), as shipped with cladec.

    Parameters
    ----------
    provenance : bool
        Also return the (empty) provenance dict.

    Returns
    -------
    list of dict
        As :func:`read_reference_csv`: 16 rows, MNIST and Fashion-MNIST,
        layers ``my_dense`` and ``my_conv``, the four metrics of
        :data:`EVAL_METRICS`, columns classifier, refAE and the ten alphas of
        :data:`ALPHA_GRID`.
    """
    from importlib import resources

    text = resources.files("cladec").joinpath("reference", _REFERENCE_FILE).read_text()
    meta, body = _split_provenance(text)
    table = _parse_reference_body(body, f"cladec/reference/{_REFERENCE_FILE}")
    return (table, meta) if provenance else table


def as_rows(data) -> list[EvaluationRow]:
    """Results in any of the forms cladec writes, as :class:`EvaluationRow` objects.

    Parameters
    ----------
    data : list of EvaluationRow, reference-layout table, or path-like
        A path may name a rows CSV (:func:`write_rows_csv`) or a
        reference-layout CSV (:func:`write_reference_csv`).

    Returns
    -------
    list of EvaluationRow
    """
    if isinstance(data, (str, bytes)) or isinstance(data, os.PathLike):
        try:
            return read_rows_csv(data)
        except ValueError:
            return rows_from_reference(data)
    items = list(data)
    if items and not isinstance(items[0], EvaluationRow):
        return rows_from_reference(items)
    return items


def rows_from_reference(table) -> list[EvaluationRow]:
    """Turn a reference-layout table back into :class:`EvaluationRow` objects.

    Parameters
    ----------
    table : list of dict or path-like
        As returned by :func:`read_reference_csv` / :func:`load_reference_table`.

    Returns
    -------
    list of EvaluationRow
        Per (dataset, layer): the classifier, the RefAE, then one row per
        alpha. Cells absent from the layout (fidelity, the RefAE's
        classification loss) are None.
    """
    table = _as_table(table)
    alpha_columns = table_alphas(table)
    blocks: dict[tuple[str, str], dict[str, dict]] = {}
    for record in table:
        blocks.setdefault((record["dataset"], record["layer"]), {})[record["eval"]] = record

    def cell(metrics, metric, column):
        return metrics.get(metric, {}).get(column)

    rows = []
    for (dataset, layer), metrics in blocks.items():
        clf_loss = cell(metrics, "classification_loss", "classifier")
        if clf_loss is None:
            clf_loss = cell(metrics, "total_loss", "classifier")
        rows.append(
            EvaluationRow(
                dataset,
                layer,
                "classifier",
                None,
                None,
                clf_loss,
                clf_loss,
                cell(metrics, "evaluation_accuracy", "classifier"),
            )
        )
        rec = cell(metrics, "reconstruction_loss", "refAE")
        rows.append(
            EvaluationRow(
                dataset,
                layer,
                "refAE",
                None,
                rec,
                None,
                cell(metrics, "total_loss", "refAE"),
                cell(metrics, "evaluation_accuracy", "refAE"),
            )
        )
        for header, alpha in alpha_columns:
            values = [cell(metrics, m, header) for m in EVAL_METRICS]
            if all(v is None for v in values):
                continue
            total, rec, cls, acc = values
            rows.append(EvaluationRow(dataset, layer, "cladec", alpha, rec, cls, total, acc))
    return rows


def run_provenance(profile=None, **extra) -> dict:
    """Provenance lines for a results file: versions, profile, machine, date.

    Parameters
    ----------
    profile : str, Profile or None
        The run profile (default: ``CLADEC_PROFILE``).
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
    import platform

    import tensorflow

    from . import __version__
    from .profiles import get_profile

    info = {
        "cladec": __version__,
        "keras": keras.__version__,
        "tensorflow": tensorflow.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "profile": get_profile(profile).describe(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    info.update({str(k): str(v) for k, v in extra.items()})
    return info


# ---------------------------------------------------------------------------
# Comparison with the reference
# ---------------------------------------------------------------------------

_COMPARISON_FIELDS = (
    "dataset",
    "layer",
    "eval",
    "column",
    "alpha",
    "reference",
    "ours",
    "difference",
    "within_tolerance",
    "rule",
)


def compare_with_reference(
    ours,
    reference=None,
    *,
    accuracy_tol: float = 0.01,
    reconstruction_rel_tol: float = RECONSTRUCTION_REL_TOL,
    max_alpha_for_reconstruction: float = 0.99,
) -> list[dict]:
    """Compare our results with the reference run, cell by cell, with stated tolerances.

    Rules (``difference = ours - reference``):

    * ``evaluation_accuracy`` (every column): ``|difference| <= accuracy_tol``.
    * ``reconstruction_loss`` of the RefAE and of alphas up to
      ``max_alpha_for_reconstruction``: ``ours <= (1 + reconstruction_rel_tol)
      * reference`` (a lower loss is a better reconstruction, never a
      shortfall; the ``difference`` column still shows it). Above that alpha the loss explodes and differs from run
      to run: no tolerance (``within_tolerance`` is None).
    * ``total_loss``: as the reconstruction loss where it equals it (RefAE,
      alpha = 0); elsewhere no tolerance.
    * ``classification_loss`` and the classifier's own loss: no tolerance
      (cross-entropy depends on training length and calibration).

    Parameters
    ----------
    ours : list of EvaluationRow, table or path-like
        Our results.
    reference : list of EvaluationRow, table, path-like or None
        Default: :func:`load_reference_table`.
    accuracy_tol, reconstruction_rel_tol, max_alpha_for_reconstruction : float
        The tolerances above.

    Returns
    -------
    list of dict
        One per cell present in both tables (our empty cells and our missing
        (dataset, layer) blocks or alphas are skipped), in the reference's
        order, with keys ``dataset``, ``layer``, ``eval``, ``column`` (the
        header, stripped: ``"classifier"``, ``"refAE"``, ``"99.9"``),
        ``alpha`` (float or None), ``reference``, ``ours``, ``difference``
        (float), ``within_tolerance`` (True, False or None when no tolerance
        applies) and ``rule`` (str).
    """
    ours_table = _as_table(ours)
    ref_table = load_reference_table() if reference is None else _as_table(reference)
    ours_index = {(r["dataset"], r["layer"], r["eval"]): r for r in ours_table}
    ours_alpha_headers = {alpha: header for header, alpha in table_alphas(ours_table)}
    ref_columns = [(c, None) for c in _FIXED_COLUMNS] + [(h, a) for h, a in table_alphas(ref_table)]
    result = []
    for ref_row in ref_table:
        key = (ref_row["dataset"], ref_row["layer"], ref_row["eval"])
        our_row = ours_index.get(key)
        if our_row is None:
            continue
        for column, alpha in ref_columns:
            ref_value = ref_row.get(column)
            our_column = column if alpha is None else ours_alpha_headers.get(alpha)
            our_value = None if our_column is None else our_row.get(our_column)
            if ref_value is None or our_value is None:
                continue
            within, rule = _judge(
                ref_row["eval"],
                column,
                alpha,
                float(our_value),
                float(ref_value),
                accuracy_tol,
                reconstruction_rel_tol,
                max_alpha_for_reconstruction,
            )
            result.append(
                {
                    "dataset": key[0],
                    "layer": key[1],
                    "eval": key[2],
                    "column": column.strip(),
                    "alpha": alpha,
                    "reference": float(ref_value),
                    "ours": float(our_value),
                    "difference": float(our_value) - float(ref_value),
                    "within_tolerance": within,
                    "rule": rule,
                }
            )
    return result


def _judge(metric, column, alpha, ours, ref, acc_tol, rel_tol, max_alpha):
    no_cls = "no tolerance: cross-entropy depends on training length and calibration"
    if metric == "evaluation_accuracy":
        return abs(ours - ref) <= acc_tol + 1e-12, f"|ours - reference| <= {acc_tol:g}"
    if column == "classifier" or metric == "classification_loss":
        return None, no_cls
    # A lower reconstruction loss is a better reconstruction, so only a loss
    # more than rel_tol above the reference counts as falling short of it.
    relative = f"ours <= reference + {rel_tol:.0%} (lower is better)"
    within_rel = ours <= ref + rel_tol * abs(ref) + 1e-12
    if metric == "reconstruction_loss":
        if column == "refAE" or alpha <= max_alpha + 1e-12:
            return within_rel, relative
        return None, (
            f"no tolerance: above alpha = {max_alpha:g} the loss explodes and varies between runs"
        )
    if metric == "total_loss":
        if column == "refAE" or alpha == 0.0:
            return within_rel, f"equals the reconstruction loss here: {relative}"
        return None, "no tolerance: blends both losses (compare its parts)"
    return None, f"no rule for {metric!r}"


def write_comparison_csv(
    comparison: Iterable[Mapping[str, Any]],
    path: str | os.PathLike,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write the output of :func:`compare_with_reference` to a CSV file, atomically.

    Parameters
    ----------
    comparison : iterable of dict
    path : path-like
    provenance : mapping or None
        Written first as ``# key: value`` comment lines.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    body = (
        [_format_cell(record.get(name)) for name in _COMPARISON_FIELDS] for record in comparison
    )
    return _write_csv(path, provenance, _COMPARISON_FIELDS, body)


# ---------------------------------------------------------------------------
# One (dataset, layer) at once
# ---------------------------------------------------------------------------


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
        Train an evaluation classifier per model (:func:`evaluation_accuracy`);
        False skips it (``evaluation_accuracy`` is then None except for the classifier).
    architecture : str, callable or None
        Of the evaluation classifiers; default: the explained classifier's
        kind (``"perfect"`` / ``"diff"``).
    eval_epochs, eval_batch_size, profile, recalibrate_batchnorm, seed, cache
        Passed to :func:`evaluation_accuracy`.
    verbose : int
        1 prints progress lines.

    Returns
    -------
    list of EvaluationRow
        The classifier, the RefAE (if given), then each alpha in the order of ``cladecs``.
    """
    from .architectures import classifier_kind

    cladecs = dict(cladecs or {})
    x_train, y_train, x_test, y_test, name = _unpack_data(data, dataset)
    explainers = ([refae] if refae is not None else []) + list(cladecs.values())
    layers = {e.layer_name for e in explainers}
    if len(layers) > 1:
        raise ValueError(
            f"the explainers explain different layers {sorted(layers)}; "
            "evaluate one layer at a time"
        )
    layer = layers.pop() if layers else ""
    image_shape = _image_shape(classifier)
    num_classes = int(classifier.output_shape[-1])
    images_test = as_images(x_test, image_shape, name="x_test")
    labels_test = as_labels(y_test, len(images_test), num_classes, name="y_test")
    if evaluate_accuracy and explainers:
        if x_train is None or y_train is None:
            raise ValueError("the evaluation accuracy needs training images and labels")
        images_train = as_images(x_train, image_shape, name="x_train")
        labels_train = as_labels(y_train, len(images_train), num_classes, name="y_train")
        if architecture is None:
            architecture = classifier_kind(classifier)
            if architecture is None:
                raise ValueError(
                    f"cannot tell the architecture of classifier {classifier.name!r}: pass "
                    "architecture= (a name or a function building an untrained model)"
                )
    log = _log(verbose)

    probs_test = predict_batched(classifier, images_test)
    pred_test = probs_test.argmax(axis=1)
    onehot = np.eye(num_classes, dtype=np.float32)[labels_test]
    clf_loss = float(np.asarray(classification_loss(onehot, probs_test)))
    clf_acc = float(np.mean(pred_test == labels_test))
    rows = [
        EvaluationRow(
            name,
            layer,
            "classifier",
            None,
            None,
            clf_loss,
            clf_loss,
            clf_acc,
            agreement=None,
            accuracy_on_reconstructions=None,
            n_test=len(images_test),
        )
    ]
    if log:
        log(f"{name} / {layer}: classifier test loss {clf_loss:.4f}, accuracy {clf_acc:.4f}")

    items = ([("refAE", None, refae)] if refae is not None else []) + [
        ("cladec", check_alpha(a), e) for a, e in cladecs.items()
    ]
    for model, alpha, explainer in items:
        what = "RefAE" if alpha is None else f"ClaDec alpha={alpha:g}"
        start = time.perf_counter()
        x_hat_test = explainer.reconstruct(images_test)
        probs_hat = predict_batched(classifier, x_hat_test)
        terms = _losses_from_arrays(
            images_test, x_hat_test, probs_hat, labels_test, alpha, explainer.loss_scale
        )
        fid = _fidelity_from_predictions(pred_test, probs_hat.argmax(axis=1), labels_test)
        row = EvaluationRow(
            name,
            layer,
            model,
            alpha,
            terms["reconstruction_loss"],
            terms["classification_loss"],
            terms["total_loss"],
            None,
            fid["agreement"],
            fid["accuracy_on_reconstructions"],
            loss_scale=explainer.loss_scale,
            n_test=len(images_test),
        )
        if evaluate_accuracy:
            x_hat_train = explainer.reconstruct(images_train)
            result = evaluation_accuracy(
                x_hat_train,
                labels_train,
                x_hat_test,
                labels_test,
                architecture=architecture,
                epochs=eval_epochs,
                batch_size=eval_batch_size,
                seed=seed,
                profile=profile,
                recalibrate_batchnorm=recalibrate_batchnorm,
                cache=cache,
                verbose=verbose,
                label=f"evaluation classifier ({name} / {layer}, {what})",
            )
            del x_hat_train
            row.evaluation_accuracy = result["accuracy"]
            row.eval_epochs = result["epochs"]
            row.eval_from_cache = result["from_cache"]
        rows.append(row)
        if log:
            acc = row.evaluation_accuracy
            acc = "" if acc is None else f", evaluation accuracy {acc:.4f}"
            log(
                f"{name} / {layer}: {what}: reconstruction loss {row.reconstruction_loss:.4g}, "
                f"classification loss {row.classification_loss:.4f}, agreement {row.agreement:.4f}"
                f"{acc} ({time.perf_counter() - start:.0f} s)"
            )
    return rows

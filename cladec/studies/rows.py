"""Result rows: the scores of one model on one (dataset, layer), and their CSV files.

An :class:`EvaluationRow` holds what :func:`cladec.studies.results.evaluate_explainers`
measures of a classifier, its RefAE or a ClaDec explainer.
:func:`write_rows_csv` and :func:`read_rows_csv` store the rows in our own
layout, one column per field, after ``# key: value`` provenance lines
(:func:`cladec.studies.csvfiles.run_provenance`). The layout of the reference
results is in :mod:`cladec.studies.layout`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._inputs import check_alpha
from ..exceptions import InvalidInputError
from .csvfiles import _format_cell, _split_provenance, _write_csv

__all__ = ["MODEL_KINDS", "EvaluationRow", "read_rows_csv", "write_rows_csv"]

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
            raise InvalidInputError(
                f"model must be one of {', '.join(MODEL_KINDS)}; got {self.model!r}"
            )
        if self.model == "cladec":
            if self.alpha is None:
                raise InvalidInputError("a 'cladec' row needs its alpha")
            self.alpha = check_alpha(self.alpha)
        elif self.alpha is not None:
            raise InvalidInputError(f"a {self.model!r} row has no alpha; got alpha={self.alpha!r}")

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
            raise InvalidInputError(f"rows must be EvaluationRow objects; got {type(row).__name__}")
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
        raise InvalidInputError(
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

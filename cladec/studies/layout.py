"""The table layout of the reference results (``seed_evaluation_result.csv``).

The reference run stored its results as one row per (dataset, layer, eval)
with eval one of :data:`EVAL_METRICS`, columns ``classifier``, ``refAE`` and
one per alpha headed in percent. This module names the columns
(:func:`alpha_header`, :func:`header_alpha`, :func:`table_alphas`) and
arranges result rows (:class:`cladec.studies.rows.EvaluationRow`) in that
layout (:func:`reference_layout`, :func:`layout_cell`). Its CSV files and the
shipped reference table are in :mod:`cladec.studies.reference`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._inputs import check_alpha
from ..exceptions import InvalidInputError
from .rows import EvaluationRow

__all__ = [
    "EVAL_METRICS",
    "alpha_header",
    "header_alpha",
    "layout_cell",
    "reference_layout",
    "table_alphas",
]


#: The ``eval`` rows of the reference layout, in the reference order.
EVAL_METRICS: tuple[str, ...] = (
    "total_loss",
    "reconstruction_loss",
    "classification_loss",
    "evaluation_accuracy",
)


_KEY_COLUMNS = ("dataset", "layer", "eval")
_FIXED_COLUMNS = ("classifier", "refAE")
_NAMED_COLUMNS = (*_KEY_COLUMNS, *_FIXED_COLUMNS)


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
        As returned by :func:`reference_layout` or :func:`cladec.studies.reference.read_reference_csv`.

    Returns
    -------
    list of (str, float)
        ``(header, alpha)`` pairs, e.g. ``[(" 0", 0.0), (" 1", 0.01), ...]``.
    """
    headers = [key for key in (table[0] if table else ()) if key not in _NAMED_COLUMNS]
    return [(key, header_alpha(key)) for key in headers if header_alpha(key) is not None]


def reference_layout(
    rows: Iterable[EvaluationRow], alphas: Sequence[float] | None = None
) -> list[dict]:
    """Arrange result rows as the reference table (``seed_evaluation_result.csv``).

    One row per (dataset, layer, eval) with eval in :data:`EVAL_METRICS`;
    columns ``dataset``, ``layer``, ``eval``, ``classifier``, ``refAE``, then
    one per alpha headed in percent (:func:`alpha_header`). Each cell is
    :func:`layout_cell` of the column's row.

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
            raise InvalidInputError(f"rows must be EvaluationRow objects; got {type(row).__name__}")
        block = blocks.setdefault((row.dataset, row.layer), {})
        key = (row.model, row.alpha)
        if key in block:
            what = row.label if row.model != "classifier" else "the classifier"
            raise InvalidInputError(f"two rows for {what} on {row.dataset} / {row.layer}")
        block[key] = row
    if alphas is None:
        alphas = sorted({row.alpha for row in rows if row.model == "cladec"})
    headers = [alpha_header(a) for a in alphas]
    if len(set(headers)) != len(headers):
        raise InvalidInputError(f"alphas {list(alphas)} give duplicate column headers {headers}")
    table = []
    for (dataset, layer), block in blocks.items():
        clf = block.get(("classifier", None))
        ref = block.get(("refAE", None))
        for metric in EVAL_METRICS:
            record: dict[str, Any] = {"dataset": dataset, "layer": layer, "eval": metric}
            record["classifier"] = layout_cell(clf, metric)
            record["refAE"] = layout_cell(ref, metric)
            for alpha, header in zip(alphas, headers, strict=True):
                record[header] = layout_cell(block.get(("cladec", check_alpha(alpha))), metric)
            table.append(record)
    return table


def layout_cell(row: EvaluationRow | None, metric: str) -> float | None:
    """The value a result row shows in its column of the reference layout, for one metric.

    The layout's conventions: the classifier column holds the classifier's own
    test loss (as total and classification loss) and its test accuracy (as
    evaluation accuracy), and no reconstruction loss; the RefAE column has no
    classification loss, and its total loss is its reconstruction loss; an
    alpha column holds the ClaDec row's own values.

    Parameters
    ----------
    row : EvaluationRow or None
        The row of the column; None gives None (an empty cell).
    metric : str
        One of :data:`EVAL_METRICS`.

    Returns
    -------
    float or None
        None for an empty cell.
    """
    if metric not in EVAL_METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; accepted: {', '.join(EVAL_METRICS)}")
    if row is None:
        return None
    if row.model == "classifier":
        if metric == "reconstruction_loss":
            return None
        if metric == "evaluation_accuracy":
            return row.evaluation_accuracy
        return row.classification_loss if row.classification_loss is not None else row.total_loss
    if row.model == "refAE":
        if metric == "classification_loss":
            return None
        if metric == "total_loss" and row.reconstruction_loss is not None:
            return row.reconstruction_loss
    return getattr(row, metric)

"""The reference results (Keras, TF 2.9, July 2022), their table layout, the comparison with them.

The reference run stored its results as ``seed_evaluation_result.csv``: one
row per (dataset, layer, eval) with eval one of :data:`EVAL_METRICS`, columns
``classifier``, ``refAE`` and one per alpha headed in percent. This module
arranges result rows (:class:`cladec.results.EvaluationRow`) in that layout
(:func:`reference_layout`, :func:`layout_cell`), writes and reads it exactly
(:func:`write_reference_csv`, :func:`read_reference_csv`), loads the shipped
reference (:func:`load_reference_table`), turns tables back into rows
(:func:`rows_from_reference`, :func:`as_rows`), and compares a run with the
reference cell by cell with stated tolerances (:func:`compare_with_reference`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ._inputs import check_alpha
from .results import (
    EvaluationRow,
    _format_cell,
    _parse_float,
    _split_provenance,
    _write_csv,
    read_rows_csv,
)

__all__ = [
    "ALPHA_GRID",
    "EVAL_METRICS",
    "RECONSTRUCTION_REL_TOL",
    "alpha_header",
    "as_rows",
    "compare_with_reference",
    "header_alpha",
    "layout_cell",
    "load_reference_table",
    "read_reference_csv",
    "reference_layout",
    "rows_from_reference",
    "table_alphas",
    "write_comparison_csv",
    "write_reference_csv",
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

_KEY_COLUMNS = ("dataset", "layer", "eval")
_FIXED_COLUMNS = ("classifier", "refAE")
_NAMED_COLUMNS = (*_KEY_COLUMNS, *_FIXED_COLUMNS)
_REFERENCE_FILE = "seed_evaluation_result.csv"


# ---------------------------------------------------------------------------
# The layout
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
        raise ValueError(f"unknown metric {metric!r}; accepted: {', '.join(EVAL_METRICS)}")
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
    missing = [c for c in _NAMED_COLUMNS if c not in columns]
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
        if len(cells) != len(columns):
            raise ValueError(
                f"{where}: a row has {len(cells)} cells but the header has {len(columns)} "
                f"columns: {line}"
            )
        table.append(
            {c: v if c in _KEY_COLUMNS else _parse_float(v) for c, v in zip(columns, cells)}
        )
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
        clf_acc = cell(metrics, "evaluation_accuracy", "classifier")
        rows.append(
            EvaluationRow(dataset, layer, "classifier", None, None, clf_loss, clf_loss, clf_acc)
        )
        ref_rec, ref_total, ref_acc = (
            cell(metrics, m, "refAE")
            for m in ("reconstruction_loss", "total_loss", "evaluation_accuracy")
        )
        rows.append(EvaluationRow(dataset, layer, "refAE", None, ref_rec, None, ref_total, ref_acc))
        for header, alpha in alpha_columns:
            values = [cell(metrics, m, header) for m in EVAL_METRICS]
            if all(v is None for v in values):
                continue
            total, rec, cls, acc = values
            rows.append(EvaluationRow(dataset, layer, "cladec", alpha, rec, cls, total, acc))
    return rows


# ---------------------------------------------------------------------------
# Comparison with the reference
# ---------------------------------------------------------------------------

_COMPARISON_FIELDS = (
    *("dataset", "layer", "eval", "column", "alpha"),
    *("reference", "ours", "difference", "within_tolerance", "rule"),
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
      shortfall; the ``difference`` column still shows it). Above that alpha
      the loss explodes and differs from run to run: no tolerance
      (``within_tolerance`` is None).
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
    tolerances = (accuracy_tol, reconstruction_rel_tol, max_alpha_for_reconstruction)
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
            ours_f, ref_f = float(our_value), float(ref_value)
            within, rule = _judge(key[2], column, alpha, ours_f, ref_f, *tolerances)
            values = (*key, column.strip(), alpha, ref_f, ours_f, ours_f - ref_f, within, rule)
            result.append(dict(zip(_COMPARISON_FIELDS, values, strict=True)))
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

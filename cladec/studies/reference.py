"""The reference results (Keras, TF 2.9, July 2022): their CSV files and the comparison with them.

The reference run stored its results as ``seed_evaluation_result.csv``, in the
layout of :mod:`cladec.studies.layout`. This module writes and reads tables in
that layout exactly (:func:`write_reference_csv`, :func:`read_reference_csv`),
loads the shipped reference (:func:`load_reference_table`), turns tables back
into rows (:func:`rows_from_reference`, :func:`as_rows`), and compares a run
with the reference cell by cell with stated tolerances
(:func:`compare_with_reference`; the cells are judged by
:mod:`cladec.studies.reference_comparison`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..exceptions import InvalidInputError
from .csvfiles import _format_cell, _parse_float, _split_provenance, _write_csv
from .layout import _KEY_COLUMNS, _NAMED_COLUMNS, EVAL_METRICS, reference_layout, table_alphas
from .layout import alpha_header as alpha_header
from .layout import header_alpha as header_alpha
from .layout import layout_cell as layout_cell
from .reference_comparison import compare_tables

# re-exported from their new homes, for code that still reads them here
from .reference_comparison import write_comparison_csv as write_comparison_csv
from .rows import EvaluationRow, read_rows_csv

__all__ = [
    "ALPHA_GRID",
    "RECONSTRUCTION_REL_TOL",
    "as_rows",
    "compare_with_reference",
    "load_reference_table",
    "read_reference_csv",
    "rows_from_reference",
    "write_reference_csv",
]


#: The alphas of the reference run, as fractions (the CSV headers are percent).
ALPHA_GRID: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.99, 0.999, 0.9999, 1.0)

#: How far above the reference run's test reconstruction loss ours may be, as a
#: fraction (alpha <= 0.99; the ``full`` profile's target, judged on the results page).
RECONSTRUCTION_REL_TOL = 0.15

_REFERENCE_FILE = "seed_evaluation_result.csv"


def _as_table(data) -> list[dict]:
    if isinstance(data, (str, os.PathLike)):
        return read_reference_csv(data)
    data = list(data)
    if data and isinstance(data[0], EvaluationRow):
        return reference_layout(data)
    if data and not (isinstance(data[0], Mapping) and "eval" in data[0]):
        raise InvalidInputError(
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
        Result rows (arranged with :func:`~cladec.studies.layout.reference_layout`) or a table
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
        raise InvalidInputError("nothing to write: no rows")
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
        raise InvalidInputError(
            f"{where} is empty: expected a table in the reference layout"
        ) from None
    has_index = header and header[0].strip() == ""
    columns = header[1:] if has_index else header
    missing = [c for c in _NAMED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInputError(
            f"{where} is not in the reference layout: columns {missing} are missing "
            f"(found {columns})"
        )
    table = []
    for line in reader:
        if not line:
            continue
        cells = line[1:] if has_index else line
        if len(cells) != len(columns):
            raise InvalidInputError(
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
        :data:`~cladec.studies.layout.EVAL_METRICS`, columns classifier, refAE and the ten alphas of
        :data:`ALPHA_GRID`.
    """
    text = resources.files("cladec").joinpath("reference", _REFERENCE_FILE).read_text()
    meta, body = _split_provenance(text)
    table = _parse_reference_body(body, f"cladec/reference/{_REFERENCE_FILE}")
    return (table, meta) if provenance else table


def as_rows(data) -> list[EvaluationRow]:
    """Results in any of the forms cladec writes, as :class:`~cladec.studies.rows.EvaluationRow` objects.

    Parameters
    ----------
    data : list of EvaluationRow, reference-layout table, or path-like
        A path may name a rows CSV (:func:`~cladec.studies.rows.write_rows_csv`) or a
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
    """Turn a reference-layout table back into :class:`~cladec.studies.rows.EvaluationRow` objects.

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
    return compare_tables(
        ours_table,
        ref_table,
        accuracy_tol=accuracy_tol,
        reconstruction_rel_tol=reconstruction_rel_tol,
        max_alpha_for_reconstruction=max_alpha_for_reconstruction,
    )

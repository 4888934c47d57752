"""Compare two result tables in the reference layout, cell by cell, with stated tolerances.

:func:`compare_tables` judges each cell of our table against the same cell of
the reference; :func:`cladec.studies.reference.compare_with_reference` states
the rules and applies them to the shipped reference table.
:func:`write_comparison_csv` writes the outcome.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .csvfiles import _format_cell, _write_csv
from .layout import _FIXED_COLUMNS, table_alphas

__all__ = ["compare_tables", "write_comparison_csv"]

_COMPARISON_FIELDS = (
    *("dataset", "layer", "eval", "column", "alpha"),
    *("reference", "ours", "difference", "within_tolerance", "rule"),
)


def compare_tables(
    ours_table: list[dict],
    ref_table: list[dict],
    *,
    accuracy_tol: float,
    reconstruction_rel_tol: float,
    max_alpha_for_reconstruction: float,
) -> list[dict]:
    """Judge every cell of ``ours_table`` against the same cell of ``ref_table``.

    Parameters
    ----------
    ours_table, ref_table : list of dict
        Tables in the reference layout (:func:`cladec.studies.layout.reference_layout`).
    accuracy_tol, reconstruction_rel_tol, max_alpha_for_reconstruction : float
        The tolerances of :func:`cladec.studies.reference.compare_with_reference`,
        which states the rules.

    Returns
    -------
    list of dict
        As :func:`cladec.studies.reference.compare_with_reference`.
    """
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
    """Write the output of :func:`~cladec.studies.reference.compare_with_reference` to a CSV file, atomically.

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

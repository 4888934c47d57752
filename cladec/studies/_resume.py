"""Keep the (dataset, layer) pairs an earlier run of ``reproduce`` finished in its output folder.

The model cache already lets a rerun skip every model it trained; but the
cache lives on one machine, and the full run takes hours. ``--resume`` also
reads the ``rows.csv`` an interrupted run left (rewritten atomically after
every pair) and keeps the pairs it completed, provided the settings that
decide the numbers are the same. Wall time and model counts carry over, so the
provenance of the finished file describes the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .rows import read_rows_csv

# Provenance lines that decide the numbers: a file that differs in one of them
# is another run, and its rows are not kept.
SETTINGS = (
    "cladec",
    "profile",
    "alphas_percent",
    "seed",
    "evaluation_accuracy",
    "comparable_with_reference",
    "caps",
)


@dataclass
class Kept:
    """What an earlier run in the output folder contributes to this one."""

    pairs: dict = field(default_factory=dict)  # (dataset, layer) -> (rows, block)
    wall_seconds: float = 0.0
    note: str = ""


def _pair_numbers(text: str) -> dict:
    """``"mnist/my_dense=3152 fashion_mnist/my_dense=5061"`` -> ``{("mnist", "my_dense"): "3152"}``."""
    found = {}
    for item in text.split():
        name, _, value = item.partition("=")
        dataset, _, layer = name.partition("/")
        if dataset and layer and value:
            found[(dataset, layer)] = value
    return found


def _model_id(model: str, alpha) -> tuple:
    return model, None if alpha is None else round(float(alpha), 10)


def _complete(rows, models: set, evaluate_accuracy: bool) -> bool:
    have = {_model_id(r.model, r.alpha) for r in rows}
    if have != models:
        return False
    return not evaluate_accuracy or all(
        r.evaluation_accuracy is not None for r in rows if r.model != "classifier"
    )


def kept_pairs(rows_file: Path, provenance: dict, pairs, alphas, evaluate_accuracy: bool) -> Kept:
    """The pairs of ``rows_file`` complete under the same settings as ``provenance``.

    Parameters
    ----------
    rows_file : Path
        The ``rows.csv`` of the output folder (it may not exist).
    provenance : dict
        This run's provenance before the status lines (``_Plan.provenance``
        with the versions and profile of :func:`cladec.studies.csvfiles.run_provenance`).
    pairs : sequence of (str, str)
        The pairs this run asks for.
    alphas : sequence of float
        Its alphas (fractions).
    evaluate_accuracy : bool
        Whether a kept pair needs its evaluation accuracies.

    Returns
    -------
    Kept
        The pairs kept, with their rows and block; the earlier run's wall time;
        and a line saying what was kept or why nothing was.
    """
    if not rows_file.is_file():
        return Kept(note=f"--resume: no {rows_file.name} in the output folder yet, starting afresh")
    try:
        rows, before = read_rows_csv(rows_file, provenance=True)
    except (OSError, ValueError) as error:
        return Kept(
            note=f"--resume: {rows_file.name} is not a results file ({error}); starting afresh"
        )
    differ = [k for k in SETTINGS if str(before.get(k, "")) != str(provenance.get(k, ""))]
    if differ:
        shown = ", ".join(
            f"{k} {before.get(k, '')!r} (now {provenance.get(k, '')!r})" for k in differ
        )
        return Kept(note=f"--resume: {rows_file.name} is another run ({shown}); starting afresh")
    seconds = _pair_numbers(before.get("pair_seconds", ""))
    counts = _pair_numbers(before.get("pair_models", ""))
    models = {("classifier", None), ("refAE", None)} | {_model_id("cladec", a) for a in alphas}
    kept = Kept(wall_seconds=float(before.get("wall_time_seconds", 0) or 0))
    for pair in pairs:
        if pair not in seconds:  # not finished when that run wrote the file
            continue
        pair_rows = [r for r in rows if (r.dataset, r.layer) == pair]
        if not _complete(pair_rows, models, evaluate_accuracy):
            continue
        trained, _, cached = counts.get(pair, "0+0").partition("+")
        block = {
            "dataset": pair[0],
            "layer": pair[1],
            "trained": int(trained or 0),
            "cached": int(cached or 0),
            "seconds": float(seconds[pair]),
            "kept": True,
        }
        kept.pairs[pair] = (pair_rows, block)
    names = ", ".join(f"{d}/{layer}" for d, layer in kept.pairs) or "none"
    kept.note = (
        f"--resume: keeping the finished pairs of {rows_file.name} "
        f"(created {before.get('created', '?')}): {names}"
    )
    return kept

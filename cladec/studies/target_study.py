"""The committed comparison of ClaDec's two classification targets: ``python -m cladec targets``.

Eq. 1 of the reference trains the classification term towards the *true*
labels; ``target="predictions"`` trains it towards the explained classifier's
own predictions on the training images. For each dataset's ``my_dense``
layer and each alpha, this measures both decoders (and RefAE as the
baseline) on the test images the classifier misreads (how often their
reconstruction is read as the classifier's wrong answer, and how often as
the true class), with the reconstruction loss, the classifier's accuracy on
the reconstructions (fidelity) and the evaluation accuracy of a fresh
classifier trained on them. Writes ``targets.csv`` (with provenance comment
lines) atomically into ``out``.

At alpha = 0 the classification term has no weight, so both targets train
the same decoder: the study measures it once, under ``labels``.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from .. import metrics
from .._ownership import check_output_file
from ..exceptions import InvalidInputError
from ..lesson import explain_layer
from .csvfiles import _split_provenance, _write_csv, run_provenance
from .results import evaluate_explainers

__all__ = ["TARGETS_FILE", "FIELDS", "run_target_study", "read_targets_csv"]

TARGETS_FILE = "targets.csv"
LAYER = "my_dense"
#: Alphas of both targets; alpha 0 (one decoder for both) is added under ``labels``.
ALPHAS = (0.5, 0.99, 0.999)
FIELDS = (
    "dataset",
    "layer",
    "model",
    "target",
    "alpha",
    "n_misread",
    "as_predicted",
    "as_true",
    "reconstruction_loss",
    "fidelity",
    "evaluation_accuracy",
)
_NUMBERS = ("alpha", "as_predicted", "as_true", "reconstruction_loss", "fidelity",
            "evaluation_accuracy")  # fmt: skip


def _check_alphas(alphas) -> tuple[float, ...]:
    chosen = tuple(float(a) for a in alphas)
    if not chosen or any(not 0.0 < a <= 1.0 for a in chosen):
        raise InvalidInputError(
            f"alphas {list(alphas)} are not accepted: give at least one alpha in (0, 1] "
            "(alpha 0 is measured anyway, once, since both targets train the same decoder there)"
        )
    return chosen


def _scored(run, explainers: dict, refae, dataset, eval_epochs, profile, seed, verbose) -> dict:
    """``{alpha or None: EvaluationRow}`` of RefAE (key None) and the decoders, one pass."""
    data = run.data
    rows = evaluate_explainers(
        run.classifier,
        (data.x_train, data.y_train, data.x_test, data.y_test),
        refae,
        explainers,
        dataset=dataset,
        eval_epochs=eval_epochs,
        profile=profile,
        seed=seed,
        verbose=verbose,
    )
    return {row.alpha: row for row in rows if row.model != "classifier"}


def _line(dataset, model, target, alpha, row, readings) -> dict:
    return {
        "dataset": dataset,
        "layer": LAYER,
        "model": model,
        "target": target,
        "alpha": alpha,
        "n_misread": readings["n_misread"],
        "as_predicted": readings["as_predicted"],
        "as_true": readings["as_true"],
        "reconstruction_loss": row.reconstruction_loss,
        "fidelity": row.accuracy_on_reconstructions,
        "evaluation_accuracy": row.evaluation_accuracy,
    }


def _dataset_lines(dataset, alphas, eval_epochs, profile, seed, verbose) -> list[dict]:
    run = explain_layer(
        dataset, LAYER, alphas=(0.0, *alphas), profile=profile, seed=seed, verbose=verbose
    )
    own = explain_layer(
        dataset, LAYER, alphas=alphas, refae=False, target="predictions", profile=profile,
        seed=seed, verbose=verbose,
    )  # fmt: skip
    data = run.data
    common = (dataset, eval_epochs, profile, seed, verbose)
    by_labels = _scored(run, dict(run.cladec), run.refae, *common)
    by_predictions = _scored(run, dict(own.cladec), None, *common)

    def read(source) -> dict:
        return metrics.misread_readings(run.classifier, data.x_test, source, data.y_test)

    lines = [_line(dataset, "refAE", "", None, by_labels[None], read(run.refae))]
    for alpha in (0.0, *alphas):
        lines.append(
            _line(dataset, "cladec", "labels", alpha, by_labels[alpha], read(run.cladec[alpha]))
        )
        if alpha:
            lines.append(
                _line(
                    dataset,
                    "cladec",
                    "predictions",
                    alpha,
                    by_predictions[alpha],
                    read(own.cladec[alpha]),
                )  # fmt: skip
            )
    return lines


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def run_target_study(
    datasets=("mnist", "fashion_mnist"),
    *,
    alphas=ALPHAS,
    eval_epochs: int | None = None,
    profile=None,
    seed: int = 0,
    out="docs/results/targets",
    command: str = "python -m cladec targets",
    verbose: int = 0,
    log=print,
) -> dict:
    """Measure both targets of eq. 1 and write ``targets.csv`` into ``out``.

    Parameters
    ----------
    datasets : sequence of str
        Datasets whose ``my_dense`` layer is explained.
    alphas : sequence of float
        Alphas in (0, 1] at which both targets are trained; alpha 0 is added.
    eval_epochs : int or None
        Epochs of each evaluation classifier (default: the profile's; full: 10).
    profile : str, Profile or None
        The run profile (default ``CLADEC_PROFILE``).
    seed : int
        Seed of every model.
    out : path-like
        The folder, created if needed.
    command : str
        The command line recorded in the provenance.
    verbose : int
        Training progress of the models it trains (0: none).
    log : callable
        Receives one line per finished dataset.

    Returns
    -------
    dict
        ``{"rows": [dict, ...], "file": Path}``, one row per model (see :data:`FIELDS`).

    Raises
    ------
    ValueError
        If an alpha is outside (0, 1], or no dataset is given.
    """
    from ..profiles import get_profile

    chosen = _check_alphas(alphas)
    datasets = list(datasets)
    if not datasets:
        raise InvalidInputError("datasets is empty: give mnist, fashion_mnist or both")
    profile = get_profile(profile)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_output_file(out / TARGETS_FILE)  # before an hour of work, not after
    rows, timings = [], {}
    for dataset in datasets:
        start = time.perf_counter()
        rows.extend(_dataset_lines(dataset, chosen, eval_epochs, profile, seed, verbose))
        timings[dataset] = time.perf_counter() - start
        log(f"{dataset}: RefAE and {2 * len(chosen) + 1} decoders measured, "
            f"{timings[dataset]:.0f} s")  # fmt: skip
    provenance = run_provenance(
        profile,
        command=command,
        layer=LAYER,
        seed=seed,
        eval_epochs=eval_epochs if eval_epochs is not None else profile.eval_epochs,
        seconds=" ".join(f"{d}={s:.0f}" for d, s in timings.items()),
    )
    path = _write_csv(
        out / TARGETS_FILE, provenance, list(FIELDS), [[_cell(r[k]) for k in FIELDS] for r in rows]
    )
    return {"rows": rows, "file": path}


def read_targets_csv(path) -> tuple[dict, list[dict]]:
    """Read a file :func:`run_target_study` wrote: its provenance and its rows.

    Parameters
    ----------
    path : path-like
        ``targets.csv``.

    Returns
    -------
    provenance : dict
        The ``# key: value`` lines.
    rows : list of dict
        One per model; numbers as float (``None`` where empty), ``n_misread`` as int.

    Raises
    ------
    ValueError
        If the file lacks a column of :data:`FIELDS`.
    """
    provenance, body = _split_provenance(Path(path).read_text(encoding="utf-8"))
    reader = csv.DictReader(io.StringIO(body))
    missing = [k for k in FIELDS if k not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInputError(f"{path} is not a targets file: it lacks the column(s) {missing}")
    rows = []
    for row in reader:
        for key in _NUMBERS:
            row[key] = float(row[key]) if row[key] else None
        row["n_misread"] = int(row["n_misread"])
        rows.append(row)
    return provenance, rows

"""Rerun the reference evaluation and compare it with the reference table.

``python -m cladec reproduce`` (or :func:`run_reproduce` from Python) runs the
protocol of the reference run (``method.md`` §7) for the chosen datasets,
layers and alphas. For every (dataset, layer) it trains, or loads from the
model cache, the "perfect" classifier, the reference autoencoder and one
ClaDec decoder per alpha (:func:`cladec.experiment.explain_layer`, all alphas
in one sweep), then scores them on the test set
(:func:`cladec.studies.results.evaluate_explainers`): the three losses of eq. 1
and, unless switched off, the evaluation accuracy of a fresh classifier
trained on the reconstructions.

Every model goes through the model cache under ``CLADEC_HOME``, so an
interrupted run resumes where it stopped: rerunning the same command trains
only what is missing, and a finished run reruns in seconds.

Three files are written into the output folder, atomically, after each
(dataset, layer), so a long run always leaves readable partial results:

``rows.csv``
    Our result rows, one per model (:func:`cladec.studies.rows.write_rows_csv`),
    with fidelity columns the reference layout lacks.
``evaluation_result.csv``
    The same results in the exact layout of the reference
    ``seed_evaluation_result.csv`` (:func:`cladec.studies.reference.write_reference_csv`),
    preceded by ``# key: value`` provenance lines (command, profile, versions,
    date, machine).
``comparison.csv``
    Cell by cell: reference, ours, difference, whether the difference is within
    the stated tolerance (:func:`cladec.studies.reference.compare_with_reference`).

Only the ``full`` profile is meant to be compared with the reference; the
``quick`` profile (a few thousand images, two epochs) is for a first look and
for tests, and its comparison is written but says nothing about the method.

Examples
--------
From a shell::

    python -m cladec reproduce --datasets mnist --layers my_dense --alphas 0 50 99 --profile quick

From Python:

>>> from cladec.reproduce import run_reproduce
>>> result = run_reproduce(["mnist"], ["my_dense"], [0, 50, 99], "quick", "out")  # doctest: +SKIP
>>> result.trained, result.cached  # doctest: +SKIP
(7, 0)
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .._logging import reporter
from ..datasets import load_dataset
from ..lesson import explain_layer
from ._plan import Plan, plan_run
from ._report import ReproduceResult, announce, pair_summary
from ._request import (
    COMPARISON_FILE,
    DEFAULT_OUT,
    LAYERS,
    PAIRS,
    REFERENCE_FILE,
    REFERENCE_PERCENTS,
    ROWS_FILE,
    ReproduceError,
    check_count,
    check_dataset,
    check_layer,
    check_percent,
    check_request,
)
from ._resume import Kept, kept_pairs
from .claims import check_claims
from .csvfiles import run_provenance
from .layout import reference_layout
from .reference import compare_with_reference, write_reference_csv
from .reference_comparison import write_comparison_csv
from .results import evaluate_explainers
from .rows import write_rows_csv

__all__ = [
    "COMPARISON_FILE",
    "DEFAULT_OUT",
    "LAYERS",
    "PAIRS",
    "REFERENCE_FILE",
    "REFERENCE_PERCENTS",
    "ROWS_FILE",
    "ReproduceError",
    "ReproduceResult",
    "check_count",
    "check_dataset",
    "check_layer",
    "check_percent",
    "check_request",
    "run_reproduce",
]


def _reproduce_pair(data, name: str, layer: str, plan: Plan) -> tuple[list, dict]:
    """Train or load one (dataset, layer)'s models and score them; return its rows and block."""
    start = time.perf_counter()
    request = plan.request
    explanation = explain_layer(
        data,
        layer,
        classifier="perfect",
        alphas=request["alphas"],
        refae=True,
        profile=request["profile"],
        seed=plan.seed,
        verbose=plan.verbose,
    )
    data = explanation.data
    cap = request["eval_images"]
    if cap is not None and cap < len(data.y_train):
        eval_data = (data.x_train[:cap], data.y_train[:cap], data.x_test, data.y_test)
    else:
        eval_data = (data.x_train, data.y_train, data.x_test, data.y_test)
    rows = evaluate_explainers(
        explanation.classifier,
        eval_data,
        explanation.refae,
        explanation.cladec,
        dataset=name,
        evaluate_accuracy=plan.evaluate_accuracy,
        eval_epochs=request["eval_epochs"],
        profile=request["profile"],
        seed=plan.seed,
        verbose=plan.verbose,
    )
    block = {
        "dataset": name,
        "layer": layer,
        "trained": explanation.trained + sum(row.eval_from_cache is False for row in rows),
        "cached": explanation.cached + sum(row.eval_from_cache is True for row in rows),
        "seconds": time.perf_counter() - start,
    }
    return rows, block


def _write_results(
    rows: list, blocks: list, plan: Plan, start: float, earlier_seconds: float = 0.0
) -> ReproduceResult:
    """Rewrite the three result files with every pair done so far; return the result so far.

    ``earlier_seconds`` is the wall time of the earlier run whose pairs ``--resume`` kept.
    """
    n_pairs = len(plan.pairs)
    done = len(blocks)
    extra = {
        **plan.provenance,
        "status": "complete" if done == n_pairs else f"partial: {done} of {n_pairs} pair(s)",
        "wall_time_seconds": round(earlier_seconds + time.perf_counter() - start),
        "models_trained": sum(b["trained"] for b in blocks),
        "models_from_cache": sum(b["cached"] for b in blocks),
        "pair_seconds": " ".join(f"{b['dataset']}/{b['layer']}={b['seconds']:.0f}" for b in blocks),
        # trained+cached per pair, so that --resume can carry the counts over
        "pair_models": " ".join(
            f"{b['dataset']}/{b['layer']}={b['trained']}+{b['cached']}" for b in blocks
        ),
    }
    kept = [f"{b['dataset']}/{b['layer']}" for b in blocks if b.get("kept")]
    if kept:
        extra["kept_from_earlier_run"] = " ".join(kept)
    profile, alphas, files = plan.request["profile"], plan.request["alphas"], plan.files
    provenance = run_provenance(profile, **extra)
    comparison = compare_with_reference(rows)
    write_rows_csv(rows, files["rows"], provenance)
    write_reference_csv(rows, files["reference_layout"], provenance, alphas=alphas)
    write_comparison_csv(comparison, files["comparison"], provenance)
    return ReproduceResult(
        rows=list(rows),
        table=reference_layout(rows, alphas),
        comparison=comparison,
        files=dict(files),
        profile=profile,
        comparable=plan.comparable,
        trained=extra["models_trained"],
        cached=extra["models_from_cache"],
        seconds=time.perf_counter() - start,
        blocks=list(blocks),
        provenance=provenance,
        claims=check_claims(rows),
    )


def _silent(message: str) -> None:
    """Drop a progress line (``verbose=0``)."""


def run_reproduce(
    datasets: Sequence[str] | None = None,
    layers: Sequence[str] | None = None,
    alphas: Sequence[float] | None = None,
    profile=None,
    out=DEFAULT_OUT,
    *,
    evaluate_accuracy: bool = True,
    eval_images: int | None = None,
    eval_epochs: int | None = None,
    seed: int = 0,
    verbose: int = 1,
    n_train: int | None = None,
    n_test: int | None = None,
    command: str | None = None,
    resume: bool = False,
) -> ReproduceResult:
    """Run the reference evaluation and compare it with the reference table.

    For every (dataset, layer): train or load the "perfect" classifier, the
    RefAE and one ClaDec per alpha (:func:`cladec.experiment.explain_layer`),
    score them (:func:`cladec.results.evaluate_explainers`), then rewrite the
    three result files in ``out``. Everything trained goes through the model
    cache, so a rerun trains only what is missing.

    Parameters
    ----------
    datasets : sequence of str or None
        ``"mnist"``, ``"fashion_mnist"``; default both.
    layers : sequence of str or None
        ``"my_dense"``, ``"my_conv"``; default both.
    alphas : sequence of float or None
        In **percent**, as the reference columns (``99.9`` is alpha = 0.999);
        default :data:`REFERENCE_PERCENTS`, the ten of the reference. Sorted,
        duplicates removed.
    profile : {"full", "quick"}, Profile or None
        The run profile; default ``CLADEC_PROFILE``, else ``"full"``.
    out : path-like
        Output folder, created if needed (default :data:`DEFAULT_OUT`).
    evaluate_accuracy : bool
        Train the evaluation classifiers on the reconstructions (the slow part);
        False leaves the evaluation accuracy of the RefAE and the alphas empty.
    eval_images : int or None
        Train the evaluation classifiers on at most this many training
        reconstructions (the first ones); default: the whole profile slice.
    eval_epochs : int or None
        Epochs of each evaluation classifier; default: the profile's
        ``eval_epochs`` (``full``: 10, as the reference). A layer's
        evaluation classifiers train side by side in one pass
        (:func:`cladec.metrics.evaluation_accuracies`).
    seed : int
        Seeds every model.
    verbose : int
        0: silent. 1: logs a header per (dataset, layer), the library's line
        per epoch of each model trained (or per cache hit), and the closing
        summary (:meth:`ReproduceResult.report`).
    n_train, n_test : int or None
        Cut the profile's data slice further (the first images), for tests
        and smoke runs; the results are then not comparable with the reference.
    command : str or None
        The command line recorded in the provenance; default: the equivalent
        ``python -m cladec reproduce ...`` command.
    resume : bool
        Keep the pairs that an earlier run with the same settings finished in
        ``out`` (its ``rows.csv``), without loading or scoring their models:
        a run interrupted on one machine goes on on another whose cache lacks
        them. The wall time and model counts add up over both runs.

    Returns
    -------
    ReproduceResult
        The rows, the reference-layout table, the comparison, the files, and
        how many models were trained and loaded from the cache.

    Raises
    ------
    ReproduceError
        Before any training, for an unknown dataset or layer, an alpha that is
        not a number in [0, 100], a bad count or an unwritable output folder.
    cladec.DataSourceError
        When a dataset cannot be found (see the installation page).
    """
    start = time.perf_counter()
    request = check_request(
        datasets,
        layers,
        alphas,
        profile,
        out,
        eval_images=eval_images,
        eval_epochs=eval_epochs,
        n_train=n_train,
        n_test=n_test,
    )
    plan = plan_run(request, evaluate_accuracy, seed, verbose, command)
    say = reporter(verbose) or _silent
    announce(plan, say)
    # Load every dataset first: a missing one fails before hours of training.
    loaded = {name: load_dataset(name) for name in request["datasets"]}
    kept = Kept()
    if resume:
        settings = run_provenance(request["profile"], **plan.provenance)
        kept = kept_pairs(
            plan.files["rows"], settings, plan.pairs, request["alphas"], evaluate_accuracy
        )
        say(kept.note)
    rows: list = []
    blocks: list[dict] = []
    for index, (name, layer) in enumerate(plan.pairs, 1):
        say(f"=== [{index}/{len(plan.pairs)}] {name} / {layer} ===")
        if (name, layer) in kept.pairs:
            pair_rows, block = kept.pairs[(name, layer)]
            say(pair_summary(block))
        else:
            pair_rows, block = _reproduce_pair(loaded[name], name, layer, plan)
        rows.extend(pair_rows)
        blocks.append(block)
        result = _write_results(rows, blocks, plan, start, kept.wall_seconds)
        if not block.get("kept"):
            say(pair_summary(block))
    result.seconds = time.perf_counter() - start
    say(result.report())
    return result

"""Rerun the reference evaluation and compare it with the reference table.

``python -m cladec reproduce`` (or :func:`run_reproduce` from Python) runs the
protocol of the reference run (``method.md`` §7) for the chosen datasets,
layers and alphas. For every (dataset, layer) it trains, or loads from the
model cache, the "perfect" classifier, the reference autoencoder and one
ClaDec decoder per alpha (:func:`cladec.experiment.explain_layer`, all alphas
in one sweep), then scores them on the test set
(:func:`cladec.results.evaluate_explainers`): the three losses of eq. 1
and, unless switched off, the evaluation accuracy of a fresh classifier
trained on the reconstructions.

Every model goes through the model cache under ``CLADEC_HOME``, so an
interrupted run resumes where it stopped: rerunning the same command trains
only what is missing, and a finished run reruns in seconds.

Three files are written into the output folder, atomically, after each
(dataset, layer), so a long run always leaves readable partial results:

``rows.csv``
    Our result rows, one per model (:func:`cladec.results.write_rows_csv`),
    with fidelity columns the reference layout lacks.
``evaluation_result.csv``
    The same results in the exact layout of the reference
    ``seed_evaluation_result.csv`` (:func:`cladec.reference.write_reference_csv`),
    preceded by ``# key: value`` provenance lines (command, profile, versions,
    date, machine).
``comparison.csv``
    Cell by cell: reference, ours, difference, whether the difference is within
    the stated tolerance (:func:`cladec.reference.compare_with_reference`).

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

import os
import platform
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._logging import reporter
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
from .datasets import load_dataset
from .experiment import explain_layer
from .reference import (
    compare_with_reference,
    reference_layout,
    write_comparison_csv,
    write_reference_csv,
)
from .results import evaluate_explainers, run_provenance, write_rows_csv

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

_NOT_COMPARABLE = (
    "NOTE: profile {name!r} results are NOT comparable with the reference "
    "(small data slices, few epochs{caps}); the files and the comparison are written "
    "for a first look only. Use --profile full for a reproduction."
)


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------


@dataclass
class ReproduceResult:
    """What :func:`run_reproduce` did and found.

    Parameters
    ----------
    rows : list of EvaluationRow
        Our results: per (dataset, layer) the classifier, the RefAE, then one row per alpha.
    table : list of dict
        The rows in the reference layout (:func:`cladec.reference.reference_layout`).
    comparison : list of dict
        Cell by cell (:func:`cladec.reference.compare_with_reference`): ``dataset``,
        ``layer``, ``eval``, ``column``, ``alpha``, ``reference``, ``ours``,
        ``difference``, ``within_tolerance`` (True, False or None when no
        tolerance applies) and ``rule``.
    files : dict
        ``{"rows": Path, "reference_layout": Path, "comparison": Path}``.
    profile : Profile
        The profile the run used (with any ``n_train`` / ``n_test`` cut).
    comparable : bool
        Whether the run is meant to be compared with the reference (the
        ``full`` profile on all the data).
    trained, cached : int
        Models trained in this run and models loaded from the cache:
        classifiers, reference autoencoders, ClaDec decoders and evaluation classifiers.
    seconds : float
        Wall time.
    blocks : list of dict
        Per (dataset, layer): ``dataset``, ``layer``, ``trained``, ``cached``, ``seconds``.
    provenance : dict
        The provenance lines written at the top of the CSV files.
    claims : list of ClaimCheck
        The claims of the reference evaluation checked on these rows
        (:func:`cladec.claims.check_claims`).
    """

    rows: list
    table: list
    comparison: list
    files: dict
    profile: object
    comparable: bool
    trained: int = 0
    cached: int = 0
    seconds: float = 0.0
    blocks: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)

    @property
    def within(self) -> list[dict]:
        """Comparison cells within tolerance."""
        return [c for c in self.comparison if c["within_tolerance"] is True]

    @property
    def outside(self) -> list[dict]:
        """Comparison cells outside tolerance."""
        return [c for c in self.comparison if c["within_tolerance"] is False]

    @property
    def untested(self) -> list[dict]:
        """Comparison cells without a tolerance (reported, not judged)."""
        return [c for c in self.comparison if c["within_tolerance"] is None]

    def report(self) -> str:
        """The closing summary: time, models trained and cached, the comparison, the files.

        Returns
        -------
        str
            Several lines, no trailing newline.
        """
        judged = len(self.within) + len(self.outside)
        lines = [
            f"reproduce finished in {_duration(self.seconds)}: {self.trained} model(s) trained, "
            f"{self.cached} loaded from the cache ({self.profile.describe()})",
            f"comparison with the reference: {len(self.within)} of {judged} judged cell(s) "
            f"within tolerance, {len(self.outside)} outside; {len(self.untested)} more cell(s) "
            "reported without a tolerance",
            *("  outside: " + _describe_cell(cell) for cell in self.outside),
            "claims of the reference evaluation (cladec.claims), on this run:",
            *(
                f"  {c.dataset} / {c.layer}: {c.verdict}: {c.claim} [{c.evidence}]"
                for c in self.claims
            ),
        ]
        if not self.comparable:
            lines.append(_not_comparable_note(self.profile, self.provenance.get("caps", "")))
        lines += [f"  {what:<16} {path}" for what, path in self.files.items()]
        return "\n".join(lines)


def _describe_cell(cell: dict) -> str:
    column = cell["column"] if cell["alpha"] is None else f"alpha {cell['column']} %"
    return (
        f"{cell['dataset']} / {cell['layer']} {cell['eval']} [{column}]: ours {cell['ours']:.4g}, "
        f"reference {cell['reference']:.4g}, difference {cell['difference']:+.4g} "
        f"(rule: {cell['rule']})"
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _not_comparable_note(profile, caps: str) -> str:
    return _NOT_COMPARABLE.format(name=profile.name, caps=f"; {caps}" if caps else "")


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def _portable(path) -> str:
    """The output folder as a user would type it: relative to the working folder, never absolute.

    Provenance is committed with the results; a machine's absolute path means
    nothing on another one.
    """
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return path.name


def _command_line(request: dict, evaluate_accuracy: bool, seed: int) -> str:
    parts = [
        *("python", "-m", "cladec", "reproduce"),
        *("--datasets", *request["datasets"], "--layers", *request["layers"]),
        *("--alphas", *(format(p, "g") for p in request["percents"])),
        *("--profile", request["profile"].name, "--out", _portable(request["out"])),
        *("--seed", str(seed)),
    ]
    if not evaluate_accuracy:
        parts.append("--no-eval-accuracy")
    if request["eval_images"] is not None:
        parts += ["--eval-images", str(request["eval_images"])]
    if request["eval_epochs"] != request["profile"].eval_epochs:
        parts += ["--eval-epochs", str(request["eval_epochs"])]
    if request["n_train"] is not None:
        parts += ["--n-train", str(request["n_train"])]
    if request["n_test"] is not None:
        parts += ["--n-test", str(request["n_test"])]
    return shlex.join(parts)


def _caps(request: dict) -> str:
    caps = []
    if request["n_train"] is not None or request["n_test"] is not None:
        profile = request["profile"]
        caps.append(f"data cut to {profile.n_train} train / {profile.n_test} test images")
    slice_size = request["profile"].n_train or 60_000
    if request["eval_images"] is not None and request["eval_images"] < slice_size:
        caps.append(
            f"evaluation classifiers trained on at most {request['eval_images']} reconstructions"
        )
    return "; ".join(caps)


@dataclass(frozen=True)
class _Plan:
    """A checked request and what follows from it, before anything trains."""

    request: dict
    evaluate_accuracy: bool
    seed: int
    verbose: int
    comparable: bool
    files: dict
    provenance: dict  # written with every partial result, before the status and timings

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(d, layer) for d in self.request["datasets"] for layer in self.request["layers"]]


def _plan(request: dict, evaluate_accuracy: bool, seed: int, verbose: int, command) -> _Plan:
    chosen = request["profile"]
    caps = _caps(request)
    comparable = chosen.name == "full" and chosen.n_train is None and not caps
    provenance = {
        "command": command or _command_line(request, evaluate_accuracy, seed),
        "datasets": " ".join(request["datasets"]),
        "layers": " ".join(request["layers"]),
        "alphas_percent": " ".join(format(p, "g") for p in request["percents"]),
        "seed": seed,
        "evaluation_accuracy": (
            f"yes, classifiers trained {request['eval_epochs']} epochs"
            if evaluate_accuracy
            else "no (--no-eval-accuracy)"
        ),
        "comparable_with_reference": "yes" if comparable else "no",
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    if caps:
        provenance["caps"] = caps
    files = {
        "rows": request["out"] / ROWS_FILE,
        "reference_layout": request["out"] / REFERENCE_FILE,
        "comparison": request["out"] / COMPARISON_FILE,
    }
    return _Plan(request, evaluate_accuracy, seed, verbose, comparable, files, provenance)


def _reproduce_pair(data, name: str, layer: str, plan: _Plan) -> tuple[list, dict]:
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
    rows: list, blocks: list, plan: _Plan, start: float, earlier_seconds: float = 0.0
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


def _announce(plan: _Plan, say) -> None:
    request = plan.request
    say(
        f"reproduce: {len(plan.pairs)} (dataset, layer) pair(s), alphas "
        f"{' '.join(format(p, 'g') for p in request['percents'])} %, "
        f"{request['profile'].describe()}, output {request['out']}"
    )
    if not plan.comparable:
        say(_not_comparable_note(request["profile"], plan.provenance.get("caps", "")))


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
    plan = _plan(request, evaluate_accuracy, seed, verbose, command)
    say = reporter(verbose) or _silent
    _announce(plan, say)
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
            say(
                f"{name} / {layer}: kept from the earlier run ({_duration(block['seconds'])} there)"
            )
        else:
            pair_rows, block = _reproduce_pair(loaded[name], name, layer, plan)
        rows.extend(pair_rows)
        blocks.append(block)
        result = _write_results(rows, blocks, plan, start, kept.wall_seconds)
        if not block.get("kept"):
            say(
                f"{name} / {layer}: {block['trained']} model(s) trained, {block['cached']} from "
                f"the cache, {_duration(block['seconds'])}"
            )
    result.seconds = time.perf_counter() - start
    say(result.report())
    return result

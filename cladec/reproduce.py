"""Rerun the reference evaluation and compare it with the reference table.

``python -m cladec reproduce`` (or :func:`run_reproduce` from Python) runs the
protocol of the reference run (``method.md`` §7) for the chosen datasets,
layers and alphas. For every (dataset, layer) it trains, or loads from the
model cache, the "perfect" classifier, the reference autoencoder and one
ClaDec decoder per alpha (:func:`cladec.experiment.explain_layer`, all alphas
in one sweep), then scores them on the test set
(:func:`cladec.evaluation.evaluate_explainers`): the three losses of eq. 1
and, unless switched off, the evaluation accuracy of a fresh classifier
trained on the reconstructions.

Every model goes through the model cache under ``CLADEC_HOME``, so an
interrupted run resumes where it stopped: rerunning the same command trains
only what is missing, and a finished run reruns in seconds.

Three files are written into the output folder, atomically, after each
(dataset, layer), so a long run always leaves readable partial results:

``rows.csv``
    Our result rows, one per model (:func:`cladec.evaluation.write_rows_csv`),
    with fidelity columns the reference layout lacks.
``evaluation_result.csv``
    The same results in the exact layout of the reference
    ``seed_evaluation_result.csv`` (:func:`cladec.evaluation.write_reference_csv`),
    preceded by ``# key: value`` provenance lines (command, profile, versions,
    date, machine).
``comparison.csv``
    Cell by cell: reference, ours, difference, whether the difference is within
    the stated tolerance (:func:`cladec.evaluation.compare_with_reference`).

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

import argparse
import dataclasses
import math
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "COMPARISON_FILE",
    "DEFAULT_OUT",
    "LAYERS",
    "REFERENCE_FILE",
    "REFERENCE_PERCENTS",
    "ROWS_FILE",
    "ReproduceError",
    "ReproduceResult",
    "add_reproduce_parser",
    "check_request",
    "run_reproduce",
]

#: The alphas of the reference table, in percent (its column headers).
REFERENCE_PERCENTS: tuple[float, ...] = (0, 1, 5, 10, 25, 50, 99, 99.9, 99.99, 100)

#: The explained layers of the "perfect" classifier.
LAYERS: tuple[str, ...] = ("my_dense", "my_conv")

#: Default output folder (relative to the working directory).
DEFAULT_OUT = "cladec-results"

ROWS_FILE = "rows.csv"
REFERENCE_FILE = "evaluation_result.csv"
COMPARISON_FILE = "comparison.csv"

_NOT_COMPARABLE = (
    "NOTE: profile {name!r} results are NOT comparable with the reference "
    "(small data slices, few epochs{caps}); the files and the comparison are written "
    "for a first look only. Use --profile full for a reproduction."
)


class ReproduceError(ValueError):
    """A request :func:`run_reproduce` cannot run: a bad dataset, layer, alpha or output folder.

    Raised before any training starts. The command line turns it into a usage
    error (exit code 2).
    """


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _dataset_names() -> tuple[str, ...]:
    from .datasets import DATASET_NAMES

    return tuple(DATASET_NAMES)


def _check_dataset(name) -> str:
    accepted = _dataset_names()
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in accepted:
        raise ReproduceError(f"unknown dataset {name!r}; accepted: {', '.join(accepted)}")
    return key


def _check_layer(name) -> str:
    key = name.strip() if isinstance(name, str) else None
    if key not in LAYERS:
        raise ReproduceError(f"unknown layer {name!r}; accepted: {', '.join(LAYERS)}")
    return key


def _check_percent(value) -> float:
    """Return an alpha given in percent as a float in [0, 100], or raise ReproduceError."""
    accepted = "a number of percent in [0, 100], e.g. " + " ".join(
        format(p, "g") for p in REFERENCE_PERCENTS
    )
    if isinstance(value, bool):
        raise ReproduceError(f"alpha {value!r} is not a number; accepted: {accepted}")
    try:
        percent = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ReproduceError(f"alpha {value!r} is not a number; accepted: {accepted}") from None
    if not math.isfinite(percent):
        raise ReproduceError(f"alpha {value!r} is not a finite number; accepted: {accepted}")
    if not 0.0 <= percent <= 100.0:
        raise ReproduceError(f"alpha {value!r} is outside [0, 100]; accepted: {accepted}")
    return percent


def _percent_to_alpha(percent: float) -> float:
    return round(percent / 100.0, 10)


def _check_count(value, what: str) -> int | None:
    if value is None:
        return None
    problem = ReproduceError(f"{what} must be a positive whole number; got {value!r}")
    if isinstance(value, bool):
        raise problem
    try:
        number = int(value.strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise problem from None
    if number < 1 or (not isinstance(value, str) and number != value):
        raise problem
    return number


def _check_out(out) -> Path:
    """Create the output folder if needed and prove it is writable; return it."""
    if out is None or str(out).strip() == "":
        raise ReproduceError("the output folder is empty; give a folder, e.g. --out cladec-results")
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise ReproduceError(f"output folder {str(out)!r} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".cladec-write-test.", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReproduceError(
            f"cannot write to the output folder {str(out)!r} ({reason}); "
            "choose a writable folder with --out"
        ) from None
    return path


def _unique(values):
    return list(dict.fromkeys(values))


def check_request(
    datasets: Sequence[str] | None = None,
    layers: Sequence[str] | None = None,
    alphas: Sequence[float] | None = None,
    profile=None,
    out=DEFAULT_OUT,
    *,
    eval_images: int | None = None,
    eval_epochs: int | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
) -> dict:
    """Validate and normalise a reproduction request, before any training.

    Parameters
    ----------
    datasets, layers, alphas, profile, out, eval_images, eval_epochs, n_train, n_test
        As for :func:`run_reproduce`.

    Returns
    -------
    dict
        ``datasets`` and ``layers`` (lists of str, duplicates removed),
        ``percents`` (sorted list of float, percent), ``alphas`` (the same
        as fractions), ``profile`` (:class:`~cladec.profiles.Profile`, cut
        to ``n_train`` / ``n_test`` when given), ``out`` (:class:`pathlib.Path`,
        created and proven writable), ``eval_images``, ``n_train``,
        ``n_test`` (int or None), ``eval_epochs`` (int: the given one, else
        the profile's).

    Raises
    ------
    ReproduceError
        Naming the bad value and the accepted ones.
    """
    from .profiles import get_profile

    if isinstance(datasets, str):
        datasets = [datasets]
    if isinstance(layers, str):
        layers = [layers]
    if isinstance(alphas, (str, int, float)):
        alphas = [alphas]
    datasets = _dataset_names() if datasets is None else datasets
    datasets = _unique(_check_dataset(name) for name in datasets)
    layers = _unique(_check_layer(name) for name in (LAYERS if layers is None else layers))
    alphas = REFERENCE_PERCENTS if alphas is None else alphas
    by_alpha = {}  # one column per alpha: 50 and 50.0 (or "5e1") are the same
    for percent in sorted(_check_percent(p) for p in alphas):
        by_alpha.setdefault(_percent_to_alpha(percent), percent)
    percents = list(by_alpha.values())
    if not datasets:
        raise ReproduceError(f"no dataset given; accepted: {', '.join(_dataset_names())}")
    if not layers:
        raise ReproduceError(f"no layer given; accepted: {', '.join(LAYERS)}")
    if not percents:
        raise ReproduceError("no alpha given; give alphas in percent, e.g. 0 50 99")
    try:
        chosen = get_profile(profile)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReproduceError(
            f"profile {profile!r} is not a run profile; accepted: full, quick"
            if not isinstance(exc, ValueError)
            else str(exc)
        ) from None
    eval_images = _check_count(eval_images, "eval_images")
    eval_epochs = _check_count(eval_epochs, "eval_epochs")
    n_train = _check_count(n_train, "n_train")
    n_test = _check_count(n_test, "n_test")
    if n_train is not None or n_test is not None:
        # profile_data needs both sizes; the standard split sizes stand for "all".
        chosen = dataclasses.replace(
            chosen,
            n_train=min(x for x in (n_train, chosen.n_train, 60_000) if x is not None),
            n_test=min(x for x in (n_test, chosen.n_test, 10_000) if x is not None),
        )
    path = _check_out(out)
    return {
        "datasets": datasets,
        "layers": layers,
        "percents": percents,
        "alphas": list(by_alpha),
        "profile": chosen,
        "out": path,
        "eval_images": eval_images,
        "eval_epochs": chosen.eval_epochs if eval_epochs is None else eval_epochs,
        "n_train": n_train,
        "n_test": n_test,
    }


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------


@dataclass
class ReproduceResult:
    """What :func:`run_reproduce` did and found.

    Attributes
    ----------
    rows : list of EvaluationRow
        Our results: per (dataset, layer) the classifier, the RefAE, then one row per alpha.
    table : list of dict
        The rows in the reference layout (:func:`cladec.evaluation.reference_layout`).
    comparison : list of dict
        Cell by cell (:func:`cladec.evaluation.compare_with_reference`): ``dataset``,
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
        lines = [
            f"reproduce finished in {_duration(self.seconds)}: {self.trained} model(s) trained, "
            f"{self.cached} loaded from the cache ({self.profile.describe()})",
        ]
        judged = len(self.within) + len(self.outside)
        lines.append(
            f"comparison with the reference: {len(self.within)} of {judged} judged cell(s) "
            f"within tolerance, {len(self.outside)} outside; {len(self.untested)} more cell(s) "
            "reported without a tolerance"
        )
        for cell in self.outside:
            lines.append("  outside: " + _describe_cell(cell))
        from .claims import check_claims

        lines.append("claims of the reference evaluation (cladec.claims), on this run:")
        for check in check_claims(self.rows):
            lines.append(
                f"  {check.dataset} / {check.layer}: {check.verdict}: {check.claim} "
                f"[{check.evidence}]"
            )
        if not self.comparable:
            lines.append(_not_comparable_note(self.profile, self.provenance.get("caps", "")))
        for what, path in self.files.items():
            lines.append(f"  {what:<16} {path}")
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


def _command_line(request: dict, evaluate_accuracy: bool, seed: int) -> str:
    parts = [
        "python",
        "-m",
        "cladec",
        "reproduce",
        "--datasets",
        *request["datasets"],
        "--layers",
        *request["layers"],
        "--alphas",
        *(format(p, "g") for p in request["percents"]),
        "--profile",
        request["profile"].name,
        "--out",
        str(request["out"]),
        "--seed",
        str(seed),
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
) -> ReproduceResult:
    """Run the reference evaluation and compare it with the reference table.

    For every (dataset, layer): train or load the "perfect" classifier, the
    RefAE and one ClaDec per alpha (:func:`cladec.experiment.explain_layer`),
    score them (:func:`cladec.evaluation.evaluate_explainers`), then rewrite the
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
        ``eval_epochs`` (``full``: 3; the reference trained its classifiers
        10, and on Fashion-MNIST the accuracy is still rising after 3, see
        the results page).
    seed : int
        Seeds every model.
    verbose : int
        0: silent. 1: a header per (dataset, layer), the library's line per
        epoch of each model trained (or per cache hit), and the closing
        summary (:meth:`ReproduceResult.report`).
    n_train, n_test : int or None
        Cut the profile's data slice further (the first images), for tests
        and smoke runs; the results are then not comparable with the reference.
    command : str or None
        The command line recorded in the provenance; default: the equivalent
        ``python -m cladec reproduce ...`` command.

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
    from . import evaluation as ev
    from .datasets import load_dataset
    from .experiment import explain_layer

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
    chosen = request["profile"]
    caps = _caps(request)
    comparable = chosen.name == "full" and chosen.n_train is None and not caps
    say = (lambda message: print(message, flush=True)) if verbose else (lambda message: None)
    provenance_extra = {
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
        provenance_extra["caps"] = caps
    files = {
        "rows": request["out"] / ROWS_FILE,
        "reference_layout": request["out"] / REFERENCE_FILE,
        "comparison": request["out"] / COMPARISON_FILE,
    }

    pairs = [(d, layer) for d in request["datasets"] for layer in request["layers"]]
    say(
        f"reproduce: {len(pairs)} (dataset, layer) pair(s), alphas "
        f"{' '.join(format(p, 'g') for p in request['percents'])} %, {chosen.describe()}, "
        f"output {request['out']}"
    )
    if not comparable:
        say(_not_comparable_note(chosen, caps))

    # Load every dataset first: a missing one fails before hours of training.
    loaded = {}
    for name in request["datasets"]:
        loaded[name] = load_dataset(name)

    rows: list = []
    blocks: list[dict] = []
    result = None
    for index, (name, layer) in enumerate(pairs, 1):
        block_start = time.perf_counter()
        say(f"=== [{index}/{len(pairs)}] {name} / {layer} ===")
        explanation = explain_layer(
            loaded[name],
            layer,
            classifier="perfect",
            alphas=request["alphas"],
            refae=True,
            profile=chosen,
            seed=seed,
            verbose=verbose,
        )
        data = explanation.data
        if request["eval_images"] is not None and request["eval_images"] < len(data.y_train):
            cap = request["eval_images"]
            eval_data = (data.x_train[:cap], data.y_train[:cap], data.x_test, data.y_test)
        else:
            eval_data = (data.x_train, data.y_train, data.x_test, data.y_test)
        block_rows = ev.evaluate_explainers(
            explanation.classifier,
            eval_data,
            explanation.refae,
            explanation.cladec,
            dataset=name,
            evaluate_accuracy=evaluate_accuracy,
            eval_epochs=request["eval_epochs"],
            profile=chosen,
            seed=seed,
            verbose=verbose,
        )
        eval_trained = sum(row.eval_from_cache is False for row in block_rows)
        eval_cached = sum(row.eval_from_cache is True for row in block_rows)
        block = {
            "dataset": name,
            "layer": layer,
            "trained": explanation.trained + eval_trained,
            "cached": explanation.cached + eval_cached,
            "seconds": time.perf_counter() - block_start,
        }
        blocks.append(block)
        rows.extend(block_rows)
        status = "complete" if index == len(pairs) else f"partial: {index} of {len(pairs)} pair(s)"
        timings = {
            "wall_time_seconds": round(time.perf_counter() - start),
            "models_trained": sum(b["trained"] for b in blocks),
            "models_from_cache": sum(b["cached"] for b in blocks),
            "pair_seconds": " ".join(
                f"{b['dataset']}/{b['layer']}={b['seconds']:.0f}" for b in blocks
            ),
        }
        result = _write_results(
            rows,
            request,
            chosen,
            comparable,
            files,
            blocks,
            start,
            {**provenance_extra, "status": status, **timings},
        )
        say(
            f"{name} / {layer}: {block['trained']} model(s) trained, {block['cached']} from the "
            f"cache, {_duration(block['seconds'])}"
        )
    assert result is not None
    result.seconds = time.perf_counter() - start
    say(result.report())
    return result


def _write_results(
    rows, request, profile, comparable, files, blocks, start, extra
) -> ReproduceResult:
    from . import evaluation as ev

    provenance = ev.run_provenance(profile, **extra)
    table = ev.reference_layout(rows, request["alphas"])
    comparison = ev.compare_with_reference(rows)
    ev.write_rows_csv(rows, files["rows"], provenance)
    ev.write_reference_csv(rows, files["reference_layout"], provenance, alphas=request["alphas"])
    ev.write_comparison_csv(comparison, files["comparison"], provenance)
    return ReproduceResult(
        rows=list(rows),
        table=table,
        comparison=comparison,
        files=dict(files),
        profile=profile,
        comparable=comparable,
        trained=sum(b["trained"] for b in blocks),
        cached=sum(b["cached"] for b in blocks),
        seconds=time.perf_counter() - start,
        blocks=list(blocks),
        provenance=provenance,
    )


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def _argparse_type(check, label: str):
    def convert(text):
        try:
            return check(text)
        except ReproduceError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = label  # argparse names the type in some messages
    return convert


def _positive_int(text):
    return _check_count(text, "the count")


def add_reproduce_parser(commands) -> argparse.ArgumentParser:
    """Add the ``reproduce`` command to the subcommands of ``python -m cladec``.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``reproduce`` parser; its ``func`` default runs :func:`run_reproduce`.
    """
    percents = " ".join(format(p, "g") for p in REFERENCE_PERCENTS)
    parser = commands.add_parser(
        "reproduce",
        help="run the reference evaluation and compare with the reference table",
        description=(
            "Train (or load from the model cache) the classifier, the reference autoencoder and "
            "one ClaDec decoder per alpha for each dataset and layer, evaluate them as the "
            "reference run did, and compare with its table. Rerunning resumes from the cache."
        ),
        epilog=(
            f"Writes {ROWS_FILE}, {REFERENCE_FILE} (the reference layout, with provenance) and "
            f"{COMPARISON_FILE} into --out, and prints the claims of the reference evaluation "
            "checked on this run (cladec.claims). Only --profile full is comparable with the "
            "reference."
        ),
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        metavar="DATASET",
        type=_argparse_type(_check_dataset, "dataset"),
        default=None,
        help=f"datasets to run (default: {' '.join(_dataset_names())})",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        metavar="LAYER",
        type=_argparse_type(_check_layer, "layer"),
        default=None,
        help=f"layers to explain (default: {' '.join(LAYERS)})",
    )
    parser.add_argument(
        "--alphas",
        nargs="+",
        metavar="PERCENT",
        type=_argparse_type(_check_percent, "alpha"),
        default=None,
        help=f"ClaDec alphas in percent, as the reference columns (default: {percents})",
    )
    parser.add_argument(
        "--profile",
        choices=("full", "quick"),
        default=None,
        help="run profile (default: $CLADEC_PROFILE, else full); quick is not comparable "
        "with the reference",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder, created if needed (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--no-eval-accuracy",
        dest="evaluate_accuracy",
        action="store_false",
        help="skip the evaluation accuracy (a fresh classifier trained on reconstructions)",
    )
    parser.add_argument(
        "--eval-images",
        type=_argparse_type(_positive_int, "count"),
        default=None,
        metavar="N",
        help="train the evaluation classifiers on at most N training reconstructions "
        "(default: all of the profile's slice)",
    )
    parser.add_argument(
        "--eval-epochs",
        type=_argparse_type(_positive_int, "count"),
        default=None,
        metavar="N",
        help="epochs of each evaluation classifier (default: the profile's; full: 3, "
        "the reference: 10)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every model (default: 0)")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only the closing summary, not the per-epoch progress",
    )
    # Hidden: cut the profile's data slice further (tests and smoke runs).
    parser.add_argument(
        "--n-train",
        type=_argparse_type(_positive_int, "count"),
        default=None,
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--n-test",
        type=_argparse_type(_positive_int, "count"),
        default=None,
        help=argparse.SUPPRESS,
    )
    parser.set_defaults(func=_reproduce_command, _reproduce_parser=parser)
    return parser


def _reproduce_command(args) -> int:
    """Run ``python -m cladec reproduce`` from parsed arguments; return the exit code."""
    from .datasets import DataSourceError

    try:
        result = run_reproduce(
            args.datasets,
            args.layers,
            args.alphas,
            args.profile,
            args.out,
            evaluate_accuracy=args.evaluate_accuracy,
            eval_images=args.eval_images,
            eval_epochs=args.eval_epochs,
            seed=args.seed,
            verbose=0 if args.quiet else 1,
            n_train=args.n_train,
            n_test=args.n_test,
        )
    except ReproduceError as exc:  # raised by the validation, before any training
        args._reproduce_parser.error(str(exc))  # exits with status 2
    except DataSourceError as exc:
        print(f"python -m cladec reproduce: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\ninterrupted; rerun the same command to resume: finished models are in the cache",
            file=sys.stderr,
        )
        return 130
    if args.quiet:
        print(result.report(), flush=True)
    return 0

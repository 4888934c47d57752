"""The plan of a run of ``reproduce``: what follows from its checked request, before anything trains.

:func:`plan_run` turns a request checked by :func:`cladec.studies._request.check_request`
into a :class:`Plan`: the command line that repeats the run, the caps that
make it not comparable with the reference, the provenance lines and the
output files.
"""

from __future__ import annotations

import os
import platform
import shlex
from dataclasses import dataclass
from pathlib import Path

from ._request import COMPARISON_FILE, REFERENCE_FILE, ROWS_FILE

__all__ = ["Plan", "command_line", "plan_run", "portable"]


def portable(path) -> str:
    """The output folder as a user would type it: relative to the working folder, never absolute.

    Provenance is committed with the results; a machine's absolute path means
    nothing on another one.
    """
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return path.name


def command_line(request: dict, evaluate_accuracy: bool, seed: int) -> str:
    """The ``python -m cladec reproduce`` command that repeats the run (for its provenance)."""
    parts = [
        *("python", "-m", "cladec", "reproduce"),
        *("--datasets", *request["datasets"], "--layers", *request["layers"]),
        *("--alphas", *(format(p, "g") for p in request["percents"])),
        *("--profile", request["profile"].name, "--out", portable(request["out"])),
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


def data_caps(request: dict) -> str:
    """What cuts the run's data below the profile's, in words; empty when nothing does."""
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
class Plan:
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
        """The (dataset, layer) pairs of the run, in the order it takes them."""
        return [(d, layer) for d in self.request["datasets"] for layer in self.request["layers"]]


def plan_run(request: dict, evaluate_accuracy: bool, seed: int, verbose: int, command) -> Plan:
    """The plan of a checked request; ``command`` (or None: the equivalent one) goes in its provenance."""
    chosen = request["profile"]
    caps = data_caps(request)
    comparable = chosen.name == "full" and chosen.n_train is None and not caps
    provenance = {
        "command": command or command_line(request, evaluate_accuracy, seed),
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
    return Plan(request, evaluate_accuracy, seed, verbose, comparable, files, provenance)

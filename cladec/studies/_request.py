"""A request of ``python -m cladec reproduce``, checked before anything trains.

:func:`check_request` turns the datasets, layers, alphas (in percent), profile
and output folder of a reproduction into normalised values, or raises a
:class:`ReproduceError` that names the bad value and the accepted ones. This
module imports neither Keras nor TensorFlow, so the command line answers a
usage error at once; :mod:`cladec.reproduce` runs the checked request and
re-exports everything here.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .._ownership import FileNotOwned, check_output_file
from ..datasets import DATASET_NAMES
from ..exceptions import ReproduceError
from ..profiles import get_profile

__all__ = [
    "COMPARISON_FILE",
    "DEFAULT_OUT",
    "LAYERS",
    "PAIRS",
    "REFERENCE_FILE",
    "REFERENCE_PERCENTS",
    "ROWS_FILE",
    "ReproduceError",
    "check_count",
    "check_dataset",
    "check_layer",
    "check_percent",
    "check_request",
]

#: The alphas of the reference table, in percent (its column headers).
REFERENCE_PERCENTS: tuple[float, ...] = (0, 1, 5, 10, 25, 50, 99, 99.9, 99.99, 100)

#: The explained layers of the "perfect" classifier.
LAYERS: tuple[str, ...] = ("my_dense", "my_conv")

#: The (dataset, layer) pairs of the reference evaluation, in the order a full run takes them.
PAIRS: tuple[tuple[str, str], ...] = tuple((d, layer) for d in DATASET_NAMES for layer in LAYERS)

#: Default output folder (relative to the working directory).
DEFAULT_OUT = "cladec-results"

ROWS_FILE = "rows.csv"
REFERENCE_FILE = "evaluation_result.csv"
COMPARISON_FILE = "comparison.csv"


def check_dataset(name) -> str:
    """Return the canonical name of a dataset (case ignored, ``-`` read as ``_``).

    Parameters
    ----------
    name : str
        E.g. ``"mnist"`` or ``"Fashion-MNIST"``.

    Returns
    -------
    str
        One of :data:`cladec.DATASET_NAMES`.

    Raises
    ------
    ReproduceError
        Naming the bad value and the accepted ones.
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in DATASET_NAMES:
        raise ReproduceError(f"unknown dataset {name!r}; accepted: {', '.join(DATASET_NAMES)}")
    return key


def check_layer(name) -> str:
    """Return an explained layer's name, one of :data:`LAYERS`.

    Parameters
    ----------
    name : str
        E.g. ``"my_dense"``.

    Returns
    -------
    str

    Raises
    ------
    ReproduceError
        Naming the bad value and the accepted ones.
    """
    key = name.strip() if isinstance(name, str) else None
    if key not in LAYERS:
        raise ReproduceError(f"unknown layer {name!r}; accepted: {', '.join(LAYERS)}")
    return key


def check_percent(value) -> float:
    """Return an alpha given in percent as a float in [0, 100].

    Parameters
    ----------
    value : str or float
        E.g. ``"99.9"`` (alpha = 0.999).

    Returns
    -------
    float

    Raises
    ------
    ReproduceError
        For a value that is not a finite number in [0, 100].
    """
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


def check_count(value, what: str) -> int | None:
    """Return a positive whole number (``None`` stays ``None``).

    Parameters
    ----------
    value : int, str or None
        E.g. ``200`` or ``"200"``; ``2.5``, ``0`` and ``True`` are refused.
    what : str
        Names the value in the error message.

    Returns
    -------
    int or None

    Raises
    ------
    ReproduceError
        For anything but a positive whole number.
    """
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


def _percent_to_alpha(percent: float) -> float:
    return round(percent / 100.0, 10)


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
    for name in (ROWS_FILE, REFERENCE_FILE, COMPARISON_FILE):
        try:
            check_output_file(path / name)
        except FileNotOwned as exc:
            raise ReproduceError(str(exc)) from None
    return path


def _as_list(values, single_types) -> list | None:
    return [values] if isinstance(values, single_types) else values


def _check_choices(datasets, layers, alphas) -> tuple[list, list, dict]:
    """Datasets and layers without duplicates; ``{alpha: percent}``, ascending, one per alpha."""
    datasets = DATASET_NAMES if datasets is None else _as_list(datasets, str)
    layers = LAYERS if layers is None else _as_list(layers, str)
    alphas = REFERENCE_PERCENTS if alphas is None else _as_list(alphas, (str, int, float))
    datasets = list(dict.fromkeys(check_dataset(name) for name in datasets))
    layers = list(dict.fromkeys(check_layer(name) for name in layers))
    by_alpha = {}  # one column per alpha: 50 and 50.0 (or "5e1") are the same
    for percent in sorted(check_percent(p) for p in alphas):
        by_alpha.setdefault(_percent_to_alpha(percent), percent)
    if not datasets:
        raise ReproduceError(f"no dataset given; accepted: {', '.join(DATASET_NAMES)}")
    if not layers:
        raise ReproduceError(f"no layer given; accepted: {', '.join(LAYERS)}")
    if not by_alpha:
        raise ReproduceError("no alpha given; give alphas in percent, e.g. 0 50 99")
    return datasets, layers, by_alpha


def _check_profile(profile, n_train: int | None, n_test: int | None):
    try:
        chosen = get_profile(profile)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReproduceError(
            f"profile {profile!r} is not a run profile; accepted: full, quick"
            if not isinstance(exc, ValueError)
            else str(exc)
        ) from None
    if n_train is None and n_test is None:
        return chosen
    # profile_data needs both sizes; the standard split sizes stand for "all".
    return dataclasses.replace(
        chosen,
        n_train=min(x for x in (n_train, chosen.n_train, 60_000) if x is not None),
        n_test=min(x for x in (n_test, chosen.n_test, 10_000) if x is not None),
    )


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
        As for :func:`cladec.reproduce.run_reproduce`.

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
    datasets, layers, by_alpha = _check_choices(datasets, layers, alphas)
    eval_images = check_count(eval_images, "eval_images")
    eval_epochs = check_count(eval_epochs, "eval_epochs")
    n_train = check_count(n_train, "n_train")
    n_test = check_count(n_test, "n_test")
    chosen = _check_profile(profile, n_train, n_test)
    return {
        "datasets": datasets,
        "layers": layers,
        "percents": list(by_alpha.values()),
        "alphas": list(by_alpha),
        "profile": chosen,
        "out": _check_out(out),
        "eval_images": eval_images,
        "eval_epochs": chosen.eval_epochs if eval_epochs is None else eval_epochs,
        "n_train": n_train,
        "n_test": n_test,
    }

"""User settings read from the environment, and the run profiles.

Five variables steer the library (see the installation page):

``CLADEC_HOME``
    Folder for the model cache and converted datasets (default
    ``$XDG_CACHE_HOME/cladec`` when ``XDG_CACHE_HOME`` is set to an absolute
    path, else ``~/.cache/cladec``).
``CLADEC_PROFILE``
    ``full`` (default, reference-quality training) or ``quick`` (small slices,
    few epochs: CI and a first look).
``CLADEC_DATA``
    Optional folder holding the original IDX files or ``mnist.npz``.
``CLADEC_PRETRAINED``
    ``1`` (default): after the cache, look in the models shipped with the
    package; ``0``: never.
``CLADEC_TRAIN``
    ``auto`` (default): train what is neither cached nor shipped; ``never``:
    raise :class:`cladec.ModelNotAvailable` instead.

The functions read the environment on every call, so a change made with
``os.environ`` takes effect at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from .exceptions import InvalidInputError

__all__ = [
    "cladec_home",
    "data_dir",
    "profile_name",
    "use_pretrained",
    "train_policy",
    "PROFILE_NAMES",
    "CLASSIFIER_KINDS",
    "TRAIN_POLICIES",
]

PROFILE_NAMES = ("full", "quick")
#: The reference classifiers (:func:`cladec.build_classifier`); here so the CLI checks them without Keras.
CLASSIFIER_KINDS = ("perfect", "diff")


def cladec_home() -> Path:
    """Return the cache folder; it is not created here.

    ``CLADEC_HOME`` when set, else ``$XDG_CACHE_HOME/cladec``, else
    ``~/.cache/cladec``. A relative ``XDG_CACHE_HOME`` is ignored, as the XDG
    Base Directory specification asks (the cache would move with the working
    directory).
    """
    value = os.environ.get("CLADEC_HOME", "").strip()
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "cladec"
    return Path.home() / ".cache" / "cladec"


#: The subfolder of the cache folder that holds the trained models.
MODELS_FOLDER = "models"


def models_dir(home: str | Path | None = None) -> Path:
    """Return the folder of trained models: ``MODELS_FOLDER`` under ``home`` (default :func:`cladec_home`)."""
    return (Path(home) if home is not None else cladec_home()) / MODELS_FOLDER


def data_dir() -> Path | None:
    """Return the folder named by ``CLADEC_DATA``, or ``None`` when it is unset."""
    value = os.environ.get("CLADEC_DATA", "").strip()
    return Path(value).expanduser() if value else None


def profile_name(name: str | None = None) -> str:
    """Return a validated profile name: ``name`` if given, else ``CLADEC_PROFILE``, else ``full``.

    Raises
    ------
    ValueError
        If the name is not one of ``PROFILE_NAMES``.
    """
    source = "profile" if name is not None else "CLADEC_PROFILE"
    value = name if name is not None else os.environ.get("CLADEC_PROFILE", "").strip() or "full"
    value = value.strip().lower()
    if value not in PROFILE_NAMES:
        raise InvalidInputError(
            f"{source}={value!r} is not a run profile; accepted: {', '.join(PROFILE_NAMES)}"
        )
    return value


TRAIN_POLICIES = ("auto", "never")


def use_pretrained() -> bool:
    """Whether to look in the models shipped with the package (``CLADEC_PRETRAINED``, default ``1``).

    Raises
    ------
    ValueError
        If the variable is set to anything but ``0``/``1`` (or ``false``/``true``, ``no``/``yes``).
    """
    value = os.environ.get("CLADEC_PRETRAINED", "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise InvalidInputError(
        f"CLADEC_PRETRAINED={value!r} is not a switch; accepted: 1 (default) or 0"
    )


def train_policy() -> str:
    """When a model that is neither cached nor shipped may train (``CLADEC_TRAIN``).

    ``auto`` (default): train it. ``never``: raise an error that names the model
    instead, so a site build or a lesson never starts an hour of training by surprise.
    """
    value = os.environ.get("CLADEC_TRAIN", "").strip().lower() or "auto"
    if value not in TRAIN_POLICIES:
        raise InvalidInputError(
            f"CLADEC_TRAIN={value!r} is not a training policy; accepted: {', '.join(TRAIN_POLICIES)}"
        )
    return value

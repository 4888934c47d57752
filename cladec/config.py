"""User settings read from the environment, and the run profiles.

Three variables steer the library (see the installation page):

``CLADEC_HOME``
    Folder for the model cache and converted datasets (default ``~/.cache/cladec``).
``CLADEC_PROFILE``
    ``full`` (default, reference-quality training) or ``quick`` (small slices,
    few epochs: CI and a first look).
``CLADEC_DATA``
    Optional folder holding the original IDX files or ``mnist.npz``.

The functions read the environment on every call, so a change made with
``os.environ`` takes effect at once.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cladec_home", "data_dir", "profile_name", "PROFILE_NAMES"]

PROFILE_NAMES = ("full", "quick")


def cladec_home() -> Path:
    """Return the cache folder (``CLADEC_HOME`` or ``~/.cache/cladec``); not created here."""
    value = os.environ.get("CLADEC_HOME", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "cladec"


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
        raise ValueError(
            f"{source}={value!r} is not a run profile; accepted: {', '.join(PROFILE_NAMES)}"
        )
    return value

"""The models shipped with the package: read-only, listed in a ``manifest.json``.

The store looks here after the user's cache (``CLADEC_PRETRAINED=1``, the
default). Building and verifying the bundle trains and measures models, so
it lives in :mod:`cladec.studies.shipped`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._atomic import sha256_file
from .._ownership import META, WEIGHTS
from ..exceptions import InvalidInputError
from .keys import store_key

__all__ = ["PretrainedBundle", "BUNDLE_DIR", "MANIFEST"]

MANIFEST = "manifest.json"
BUNDLE_DIR = Path(__file__).parents[1] / "pretrained"


def _read_meta(folder: Path, key: str) -> dict:
    meta = json.loads((folder / META).read_text())
    if meta.get("key") != key:
        raise InvalidInputError("its meta.json belongs to other training settings")
    return meta


def _load_weights(folder: Path, build: Callable[[], Any], expected_sha: str | None):
    actual = sha256_file(folder / WEIGHTS)
    if actual != expected_sha:
        raise InvalidInputError(
            f"weights checksum {actual[:12]}... does not match the recorded {str(expected_sha)[:12]}..."
        )
    model = build()
    model.load_weights(folder / WEIGHTS)
    return model


class PretrainedBundle:
    """The read-only models shipped with the package, listed in a ``manifest.json``.

    Parameters
    ----------
    root : path-like or None
        The bundle folder; default: ``cladec/pretrained`` inside the installed package.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else BUNDLE_DIR
        self._manifest: dict | None = None

    def __repr__(self) -> str:
        return f"PretrainedBundle({str(self.root)!r})"

    @property
    def manifest(self) -> dict:
        """``{"entries": {key: {...}}, ...}``; empty when the bundle has no manifest."""
        if self._manifest is None:
            path = self.root / MANIFEST
            self._manifest = json.loads(path.read_text()) if path.is_file() else {"entries": {}}
        return self._manifest

    def __len__(self) -> int:
        return len(self.manifest.get("entries", {}))

    def find(self, fields: dict, build: Callable[[], Any]) -> tuple[Any, dict] | None:
        """Return ``(model, meta)`` for a shipped model, or ``None``; a damaged one is reported, never used.

        Parameters
        ----------
        fields : dict
            The model's key fields.
        build : callable
            ``build()`` returns the untrained model; the shipped weights are loaded into it.

        Returns
        -------
        tuple or None
            ``(model, meta)``, or ``None`` when the manifest does not list the
            key or the entry is damaged (with a ``RuntimeWarning``).
        """
        key = store_key(fields)
        listed = self.manifest.get("entries", {}).get(key)
        if listed is None:
            return None
        folder = self.root / key[:24]
        try:
            meta = _read_meta(folder, key)
            model = _load_weights(folder, build, listed.get("weights_sha256"))
        except Exception as exc:  # noqa: BLE001 - any damage means: do not use it
            warnings.warn(
                f"cladec shipped models: entry {folder.name} does not match the manifest ({exc}); "
                "it is not used",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return model, meta

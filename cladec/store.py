"""A content-addressed cache of trained models.

Every training the library does (classifiers, decoders, reference
autoencoders, evaluation classifiers) can go through one :class:`ModelStore`
under ``CLADEC_HOME/models``. The key is a SHA-256 over a JSON of everything
that determines the weights; an entry is a folder holding the weights and a
``meta.json`` sidecar (the key fields, training time, final metrics, library
versions, the weights' own SHA-256). Entries are written atomically, and an
entry that is unreadable or whose weights no longer match their checksum is
reported, removed and retrained, never used.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config
from ._atomic import atomic_dir, sha256_bytes, sha256_file

__all__ = [
    "ModelStore",
    "StoreEntry",
    "as_store",
    "default_store",
    "fingerprint_model",
    "training_time_text",
]

_WEIGHTS = "model.weights.h5"
_META = "meta.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class StoreEntry:
    """One cached model: its folder and the contents of its ``meta.json``."""

    path: Path
    meta: dict

    @property
    def key(self) -> str:
        return self.meta.get("key", self.path.name)

    @property
    def kind(self) -> str:
        return self.meta.get("fields", {}).get("kind", "?")


class ModelStore:
    """A folder of trained models addressed by the hash of their training settings.

    Parameters
    ----------
    root : path-like or None
        The folder; ``None`` means ``CLADEC_HOME/models`` at the time of the call.
    """

    def __init__(self, root: str | Path | None = None):
        self._root = Path(root) if root is not None else None

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else config.cladec_home() / "models"

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    @staticmethod
    def key(fields: dict) -> str:
        """Return the SHA-256 hex key of a JSON-serialisable dict of training settings."""
        blob = json.dumps(
            {"format": FORMAT_VERSION, **fields}, sort_keys=True, separators=(",", ":"), default=str
        )
        return sha256_bytes(blob.encode())

    def path_for(self, fields: dict) -> Path:
        return self.root / self.key(fields)[:24]

    def load(self, fields: dict, build: Callable[[], Any]) -> tuple[Any, dict] | None:
        """Return ``(model, meta)`` for a cached entry, or ``None`` on a miss.

        ``build`` makes an untrained model of the right architecture; the
        cached weights are loaded into it. A damaged entry is reported with a
        warning, removed, and treated as a miss.
        """
        path = self.path_for(fields)
        if not path.exists():
            return None
        try:
            meta = json.loads((path / _META).read_text())
            if meta.get("key") != self.key(fields):
                raise ValueError("its meta.json belongs to other training settings")
            actual = sha256_file(path / _WEIGHTS)
            if actual != meta.get("weights_sha256"):
                raise ValueError(
                    f"weights checksum {actual[:12]}... does not match the recorded "
                    f"{str(meta.get('weights_sha256'))[:12]}..."
                )
            model = build()
            model.load_weights(path / _WEIGHTS)
        except Exception as exc:  # noqa: BLE001 - any damage means: retrain
            warnings.warn(
                f"cladec model cache: entry {path} is unreadable or corrupted ({exc}); "
                "it is removed and the model will be retrained",
                RuntimeWarning,
                stacklevel=2,
            )
            shutil.rmtree(path, ignore_errors=True)
            return None
        return model, meta

    def save(
        self,
        fields: dict,
        model: Any,
        *,
        train_seconds: float,
        metrics: dict | None = None,
        sweep_size: int = 1,
    ) -> Path:
        """Write ``model``'s weights and a ``meta.json`` atomically; return the entry folder.

        ``sweep_size`` > 1 says the model trained together with others in one pass
        (:func:`cladec.fit_alpha_sweep`) and ``train_seconds`` is its share of that pass.
        """
        path = self.path_for(fields)
        with atomic_dir(path) as tmp:
            model.save_weights(tmp / _WEIGHTS)
            meta = {
                "key": self.key(fields),
                "fields": fields,
                "train_seconds": round(float(train_seconds), 3),
                "sweep_size": int(sweep_size),
                "metrics": metrics or {},
                "weights_sha256": sha256_file(tmp / _WEIGHTS),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "versions": _versions(),
            }
            (tmp / _META).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        return path

    def entries(self) -> list[StoreEntry]:
        """Return the readable entries, oldest first (unreadable ones are skipped)."""
        found = []
        if not self.root.is_dir():
            return found
        for meta_path in sorted(self.root.glob(f"*/{_META}")):
            try:
                found.append(StoreEntry(meta_path.parent, json.loads(meta_path.read_text())))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda e: e.meta.get("created", ""))

    def clear(self) -> int:
        """Remove every entry (and leftovers of interrupted writes); return how many folders went."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for child in self.root.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        return removed


def as_store(cache) -> ModelStore | None:
    """Turn a ``cache=`` argument into a store: ``True`` the default one, ``False``/``None`` none."""
    if cache is True:
        return default_store()
    if cache is False or cache is None:
        return None
    if isinstance(cache, ModelStore):
        return cache
    raise ValueError(f"cache must be True, False or a ModelStore; got {cache!r}")


def training_time_text(meta: dict) -> str:
    """How long a cached model took to train, in words, from its ``meta.json``.

    A sweep member's time is its share of the one pass that trained the whole
    sweep; saying so keeps "698 s" from reading as one model's own cost.
    """
    seconds = float(meta.get("train_seconds", 0.0))
    size = int(meta.get("sweep_size", 1))
    if size <= 1:
        return f"{seconds:.0f} s"
    return f"{seconds:.0f} s, its share of a {size}-model sweep of {seconds * size:.0f} s"


def default_store() -> ModelStore:
    """The store under the current ``CLADEC_HOME``."""
    return ModelStore()


def fingerprint_model(model) -> str:
    """SHA-256 over a model's weight shapes and values, in layer order.

    Names are left out on purpose: Keras numbers auto-named layers per
    session, so the same architecture and weights would otherwise hash differently.
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in model.weights:
        value = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def _versions() -> dict:
    import keras
    import numpy
    import tensorflow

    from . import __version__

    return {
        "cladec": __version__,
        "keras": keras.__version__,
        "tensorflow": tensorflow.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }

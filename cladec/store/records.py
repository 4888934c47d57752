"""What the store says about a model: where it came from, how it trained, what it needs.

:class:`ModelRecord` comes back with every model the store serves or trains;
:class:`ModelRequest` and :class:`Trained` are what a training function and
:meth:`cladec.ModelStore.obtain` exchange.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from .._costs import bundle_costs, training_seconds, training_time_text
from .._version import __version__
from ..history import TrainingHistory

__all__ = [
    "ModelRecord",
    "ModelRequest",
    "StoreEntry",
    "Trained",
    "training_time_text",
    "training_seconds",
    "bundle_costs",
    "versions",
]


def versions() -> dict:
    """The library versions and machine that a result or a model was made with."""
    import tensorflow  # already imported by Keras; only its version is read

    return {
        "cladec": __version__,
        "keras": keras.__version__,
        "tensorflow": tensorflow.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


@dataclass(frozen=True)
class ModelRecord:
    """Where one model came from and how it was trained.

    Parameters
    ----------
    source : {"trained", "cache", "pretrained"}
        Trained by this call, loaded from the user's cache, or shipped with the package.
    key : str
        The store key (SHA-256 of ``fields``).
    fields : dict
        Everything that determines the weights.
    meta : dict
        The entry's ``meta.json``: ``train_seconds``, ``sweep_size``,
        ``metrics``, ``history``, ``versions``, ``created``.
    """

    source: str
    key: str
    fields: dict
    meta: dict = field(default_factory=dict)

    @property
    def history(self) -> TrainingHistory:
        """Every epoch's losses, as recorded when the model trained."""
        return TrainingHistory.from_dict(self.meta.get("history") or self.meta.get("metrics"))

    @property
    def metrics(self) -> dict:
        """The final metrics recorded with the model (e.g. ``val_accuracy``)."""
        return dict(self.meta.get("metrics", {}))

    @property
    def train_seconds(self) -> float:
        return float(self.meta.get("train_seconds", 0.0))

    @property
    def from_cache(self) -> bool:
        """True when nothing trained now (the user's cache or the shipped models)."""
        return self.source != "trained"

    def describe(self) -> str:
        """Where the model came from, in words, for logs and the tutorials' printed lines."""
        took = training_time_text(self.meta)
        if self.source == "trained":
            return f"trained now in {took}"
        made = self.meta.get("versions", {})
        machine = f" on {made['machine']}" if made.get("machine") else ""
        library = f" with TensorFlow {made['tensorflow']}" if made.get("tensorflow") else ""
        if self.source == "pretrained":
            return f"shipped pretrained model, trained in {took}{machine}{library}"
        return f"loaded from the model cache (trained in {took}{machine})"


@dataclass
class ModelRequest:
    """One model to obtain: its key fields, how to build it untrained, and its name in messages.

    Parameters
    ----------
    fields : dict
        Everything that determines the weights, JSON-serialisable; its
        SHA-256 is the store key.
    build : callable
        ``build()`` returns the untrained model of the right architecture,
        into which stored weights are loaded.
    label : str
        Names the model for a person: kind, dataset, layer, alpha and
        profile where they apply (``"ClaDec decoder (mnist, my_dense, alpha 0.99, profile full)"``).
    context : dict
        Recorded beside the weights but not part of the key: what
        :mod:`cladec.pretrained` needs to rebuild and re-measure the model
        (dataset, profile, layer, alpha, units).
    """

    fields: dict
    build: Callable[[], Any]
    label: str
    context: dict = field(default_factory=dict)


@dataclass
class Trained:
    """What a training function hands back for one request: the model, its history, its metrics.

    Parameters
    ----------
    model : keras.Model
        The trained model.
    history : TrainingHistory
        Every epoch's losses.
    metrics : dict
        Final metrics to record with the model, ``{name: float}``.
    """

    model: Any
    history: TrainingHistory
    metrics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StoreEntry:
    """One stored model: its folder and the contents of its ``meta.json``.

    Parameters
    ----------
    path : Path
        The entry's folder.
    meta : dict
        The parsed ``meta.json``.
    """

    path: Path
    meta: dict

    @property
    def key(self) -> str:
        return self.meta.get("key", self.path.name)

    @property
    def kind(self) -> str:
        return self.meta.get("fields", {}).get("kind", "?")

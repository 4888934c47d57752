"""Where trained models live: the user's cache, the shipped bundle, their records and archives.

:mod:`~cladec.store.cache` serves a model from the user's cache or the
shipped models, or trains and stores it; :mod:`~cladec.store.records` says
what a stored model is and keys it; :mod:`~cladec.store.archive` moves a
cache between machines. Building and verifying the shipped models trains
and measures them, so it lives above the method, in
:mod:`cladec.studies.shipped`.
"""

from .cache import ModelNotAvailable, ModelStore, as_store, default_store, obtain
from .keys import architecture_digest, store_key
from .pretrained import PretrainedBundle
from .records import (
    ModelRecord,
    ModelRequest,
    StoreEntry,
    Trained,
    fingerprint_model,
    training_time_text,
    versions,
)

__all__ = [
    "ModelStore",
    "ModelRecord",
    "ModelRequest",
    "Trained",
    "PretrainedBundle",
    "ModelNotAvailable",
    "StoreEntry",
    "as_store",
    "default_store",
    "obtain",
    "fingerprint_model",
    "architecture_digest",
    "store_key",
    "training_time_text",
    "versions",
]

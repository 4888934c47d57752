"""Where trained models live: the user's cache, the shipped bundle, their records and archives.

:mod:`~cladec.store.cache` serves a model from the user's cache or the
shipped models, or trains and stores it; :mod:`~cladec.store.records` says
what a stored model is and keys it; :mod:`~cladec.store.archive` moves a
cache between machines. Building and verifying the shipped models trains
and measures them, so it lives above the method, in
:mod:`cladec.studies.shipped`.
"""

from ..exceptions import ModelNotAvailable as ModelNotAvailable
from .cache import ModelStore as ModelStore
from .cache import as_store, default_store, obtain
from .keys import architecture_digest, fingerprint_model, store_key
from .pretrained import PretrainedBundle
from .records import ModelRecord as ModelRecord
from .records import (
    ModelRequest,
    StoreEntry,
    Trained,
    training_time_text,
    versions,
)

# ModelStore, ModelRecord and ModelNotAvailable are importable here too; they
# are documented as cladec.ModelStore, ... so this list leaves them out
__all__ = [
    "ModelRequest",
    "Trained",
    "PretrainedBundle",
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

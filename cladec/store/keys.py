"""How a stored model is addressed: the SHA-256 of everything that makes it.

A model's key fields name its kind, its architecture (:func:`architecture_digest`),
its initial weights (:func:`fingerprint_model`), the loss it trains on, its
data, its recipe and its training settings; :func:`store_key` hashes them.
Change any of these and the store misses, so a model is never served for
settings it was not trained with.
"""

from __future__ import annotations

import json

from .._atomic import sha256_bytes
from .._fingerprints import architecture_digest, fingerprint_model

__all__ = ["FORMAT_VERSION", "store_key", "fingerprint_model", "architecture_digest"]

#: Enters every key: bump it when the meaning of the key fields changes.
FORMAT_VERSION = 1


def store_key(fields: dict) -> str:
    """The hex SHA-256 of a model's key fields (JSON, sorted keys).

    Parameters
    ----------
    fields : dict
        Everything that makes the model, JSON-serialisable.

    Returns
    -------
    str
        64 hex digits; the entry's folder is named by the first 24.
    """
    blob = json.dumps(
        {"format": FORMAT_VERSION, **fields}, sort_keys=True, separators=(",", ":"), default=str
    )
    return sha256_bytes(blob.encode())

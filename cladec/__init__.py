"""cladec: explain layers of Keras image classifiers by decoding their activations.

The public API is re-exported here. Importing the package imports Keras and
TensorFlow but changes no global state: no seeds, no files, no downloads.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .architectures import build_classifier, build_decoder, generic_decoder
from .config import cladec_home
from .datasets import DATASET_NAMES, Dataset, DataSourceError, load_dataset
from .explainers import ClaDec, RefAE, fit_alpha_sweep, resolve_units
from .profiles import PROFILES, Profile, get_profile
from .store import ModelStore
from .training import fit_classifier, train_classifier

__all__ = [
    "__version__",
    "ClaDec",
    "RefAE",
    "fit_alpha_sweep",
    "resolve_units",
    "build_classifier",
    "build_decoder",
    "generic_decoder",
    "train_classifier",
    "fit_classifier",
    "load_dataset",
    "Dataset",
    "DataSourceError",
    "DATASET_NAMES",
    "ModelStore",
    "Profile",
    "PROFILES",
    "get_profile",
    "cladec_home",
]

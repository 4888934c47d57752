"""cladec: explain layers of Keras image classifiers by decoding their activations.

What a user calls, in the order of a lesson::

    ds = cladec.load_dataset("mnist")                      # real data, offline
    clf = cladec.train_classifier("perfect", ds)           # cached, or shipped pretrained
    ref = cladec.RefAE(clf, layer="my_dense").fit(ds.x_train)
    sweep = cladec.fit_alpha_sweep(clf, "my_dense", [0.0, 0.99], ds.x_train, ds.y_train)
    result = cladec.explain(sweep, ref, ds.x_test[:8])    # reconstructions, ClaDec - RefAE

Names are resolved on first use: ``import cladec`` and ``python -m cladec --help``
do not import TensorFlow (which takes seconds and prints log noise); the
first attribute that needs it does. Importing changes no global state.
"""

from __future__ import annotations

import importlib
import warnings

from ._version import __version__

# public name -> module that defines it; the one list of the public API
_EXPORTS = {
    # data
    "load_dataset": "datasets",
    "Dataset": "datasets",
    "DatasetSpec": "datasets",
    "register_dataset": "datasets",
    "DATASET_NAMES": "datasets",
    # classifiers
    "build_classifier": "architectures",
    "train_classifier": "classifiers",
    "obtain_classifier": "classifiers",
    "TrainedClassifier": "classifiers",
    "check_classifier": "requirements",
    # the method
    "ClaDec": "explainers",
    "RefAE": "refae",
    "fit_alpha_sweep": "explainers",
    "explain": "explanation",
    "Explanation": "explanation",
    "Eq1Loss": "losses",
    "register_loss": "losses",
    # models: store and settings
    "ModelStore": "store",
    "ModelRecord": "store",
    "Profile": "profiles",
    "PROFILES": "profiles",
    "get_profile": "profiles",
    "cladec_home": "config",
    # errors and warnings
    "CladecError": "exceptions",
    "CladecWarning": "exceptions",
    "InvalidInputError": "exceptions",
    "NotFittedError": "exceptions",
    "DataSourceError": "exceptions",
    "ModelNotAvailable": "exceptions",
    "FolderNotOwned": "exceptions",
    "FileNotOwned": "exceptions",
    "ArchiveError": "exceptions",
}

__all__ = ["__version__", *_EXPORTS]


# submodules and subpackages reachable as attributes after a plain ``import cladec``
_SUBMODULES = {
    "architectures",
    "classifiers",
    "cli",
    "config",
    "dataset_registry",
    "datasets",
    "diagnostics",
    "examples",
    "exceptions",
    "explainers",
    "explanation",
    "explorer",
    "history",
    "lesson",
    "losses",
    "metrics",
    "plotting",
    "profiles",
    "reconstructors",
    "refae",
    "requirements",
    "saliency",
    "store",
    "studies",
    "sweep",
    "training",
    "units",
}

# modules that moved in 0.2 (see CHANGELOG.md): ``cladec.records`` still
# answers as an attribute; ``import cladec.records`` needs the new path
_MOVED = {
    "archive": "store.archive",
    "records": "store.records",
    "bundle": "studies.shipped",
    "claims": "studies.claims",
    "reference": "studies.reference",
    "reproduce": "studies.reproduce",
    "results": "studies.results",
    "saliency_study": "studies.saliency_study",
    "target_study": "studies.target_study",
    "comparison": "saliency.comparison",
    "faithfulness": "saliency.faithfulness",
    "heatmaps": "saliency.heatmaps",
    "sanity": "saliency.sanity",
    "experiment": "lesson",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _MOVED:
        warnings.warn(
            f"cladec.{name} moved to cladec.{_MOVED[name]}; the old name goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(f".{_MOVED[name]}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cladec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(__all__)

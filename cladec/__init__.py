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

from ._version import __version__

# public name -> module that defines it
_EXPORTS = {
    "load_dataset": "datasets",
    "Dataset": "datasets",
    "DataSourceError": "datasets",
    "DATASET_NAMES": "datasets",
    "build_classifier": "architectures",
    "train_classifier": "classifiers",
    "obtain_classifier": "classifiers",
    "TrainedClassifier": "classifiers",
    "check_classifier": "requirements",
    "ClaDec": "explainers",
    "RefAE": "explainers",
    "fit_alpha_sweep": "explainers",
    "explain": "explanation",
    "Explanation": "explanation",
    "ModelStore": "store",
    "ModelRecord": "store",
    "ModelNotAvailable": "store",
    "FolderNotOwned": "_ownership",
    "Profile": "profiles",
    "PROFILES": "profiles",
    "get_profile": "profiles",
    "cladec_home": "config",
}

__all__ = [
    "__version__",
    "load_dataset",
    "Dataset",
    "DataSourceError",
    "DATASET_NAMES",
    "build_classifier",
    "train_classifier",
    "obtain_classifier",
    "TrainedClassifier",
    "check_classifier",
    "ClaDec",
    "RefAE",
    "fit_alpha_sweep",
    "explain",
    "Explanation",
    "ModelStore",
    "ModelRecord",
    "ModelNotAvailable",
    "FolderNotOwned",
    "Profile",
    "PROFILES",
    "get_profile",
    "cladec_home",
]


# submodules reachable as attributes after a plain ``import cladec`` (``cladec.plotting``)
_SUBMODULES = {
    "architectures",
    "archive",
    "bundle",
    "claims",
    "classifiers",
    "comparison",
    "config",
    "datasets",
    "diagnostics",
    "examples",
    "experiment",
    "explainers",
    "explanation",
    "faithfulness",
    "heatmaps",
    "losses",
    "metrics",
    "plotting",
    "profiles",
    "records",
    "reference",
    "reproduce",
    "requirements",
    "results",
    "saliency",
    "saliency_study",
    "sanity",
    "store",
    "sweep",
    "target_study",
    "training",
    "units",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cladec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(__all__)

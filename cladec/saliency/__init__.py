"""The saliency baselines ClaDec is compared with, and the measures that compare them.

:mod:`~cladec.saliency.methods` computes the maps (one
:class:`~cladec.saliency.registry.SaliencyMethod` per method in
:data:`~cladec.saliency.registry.REGISTRY`, which names the maps in
:mod:`~cladec.saliency.heatmaps` and ranks their pixels in
:mod:`~cladec.saliency.comparison`; :mod:`~cladec.saliency.registry` says
how to add one);
:mod:`~cladec.saliency.faithfulness` scores them by deleting and inserting
pixels; :mod:`~cladec.saliency.sanity` randomises the classifier;
:mod:`~cladec.saliency.comparison` runs all of them beside ClaDec and
:mod:`~cladec.saliency.heatmaps` draws the results.
"""

from .methods import (
    METHODS,
    SCORES,
    all_saliency_maps,
    class_probability,
    saliency_maps,
    spatial_layers,
)
from .registry import RANKINGS, REGISTRY, SaliencyMethod, register_method, unregister_method

__all__ = [
    "METHODS",
    "SCORES",
    "RANKINGS",
    "REGISTRY",
    "SaliencyMethod",
    "register_method",
    "unregister_method",
    "saliency_maps",
    "all_saliency_maps",
    "spatial_layers",
    "class_probability",
]

"""The saliency methods by name: what each computes, how figures name it, how it ranks pixels.

One :class:`SaliencyMethod` per method in :data:`REGISTRY`;
:mod:`cladec.saliency.methods` registers the four built-in ones.

Adding a saliency method
------------------------
Every method is one :class:`SaliencyMethod` in :data:`REGISTRY`: its name,
the function that computes its maps, its label in figures and tables, how
its map ranks pixels (:data:`RANKINGS`) and its parameters with their
defaults. Register one and every part of :mod:`cladec.saliency` knows it:
:func:`~cladec.saliency.methods.saliency_maps` computes it,
:func:`~cladec.saliency.heatmaps.label_of` names it in the figures and
tables, and :func:`~cladec.saliency.comparison.ranking_scores` ranks its
pixels in the faithfulness table and the randomisation study::

    from cladec.saliency import SaliencyMethod, register_method, saliency_maps

    def gradient_times_input(model, images, classes, *, score, batch_size):
        grads = saliency_maps(model, images, "gradient", classes=classes,
                              score=score, batch_size=batch_size)
        return grads * images.sum(axis=-1)

    register_method(SaliencyMethod(
        name="gradient_x_input",
        compute=gradient_times_input,
        label="Gradient × Input",
        ranking="magnitude",
    ))
    saliency_maps(classifier, images, "gradient_x_input")

The function is called as ``compute(model, images, classes, score=...,
batch_size=..., **parameters)``: ``model`` a :class:`keras.Model`,
``images`` float32 ``(N, H, W, C)`` in [0, 1], ``classes`` int32 ``(N,)``
(already checked), ``score`` ``"logit"`` or ``"probability"``; it returns
one float ``(N, H, W)`` map per image. Its ``parameters`` are the keys of
the method's ``defaults`` (``defaults={"sigma": 1.0}`` makes
``saliency_maps(..., sigma=2.0)`` reach it): a caller's keyword overrides
a default, and a keyword only other methods take is not passed, so
:func:`~cladec.saliency.methods.all_saliency_maps` can pass Grad-CAM's
``layer=`` to every method. :data:`~cladec.saliency.methods.METHODS` stays
the four built-in methods, the comparison's default: pass ``methods=`` to
compare yours. :func:`unregister_method` removes a method that is not
built in.
"""

from __future__ import annotations

import inspect
import keyword
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._registry import add_entry
from ..exceptions import InvalidInputError

__all__ = ["RANKINGS", "REGISTRY", "SaliencyMethod", "register_method", "unregister_method"]

#: How a method's map ranks pixels: ``"magnitude"``, by its absolute value (a
#: signed gradient: either sign moves the score); ``"value"``, by the map
#: itself, highest first (signed evidence for the class, or a map that is
#: never negative).
RANKINGS = ("magnitude", "value")

# Names a method cannot take: the comparison's two baselines and its ClaDec maps.
_RESERVED_NAMES = ("ink", "random")
_RESERVED_PREFIX = "cladec"
# saliency_maps' own keywords: a method's parameter of the same name would never reach it.
_CALL_KEYWORDS = ("classifier", "images", "method", "classes", "score", "batch_size")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class SaliencyMethod:
    """One saliency method: how to compute its maps, name them and rank their pixels.

    Register it with :func:`register_method`; see "Adding a saliency method" in
    :mod:`cladec.saliency.registry`.

    Parameters
    ----------
    name : str
        The key :func:`saliency_maps` takes and the maps' name in tables, a
        lowercase identifier (``"gradient"``); not ``"ink"``, ``"random"`` or
        a name starting with ``"cladec"``, the comparison's other maps.
    compute : callable
        ``compute(model, images, classes, *, score, batch_size, **parameters)``
        returning float ``(N, H, W)`` maps of float32 ``(N, H, W, C)``
        ``images`` for int32 ``(N,)`` ``classes``.
    label : str
        The name figures and tables show (``"Grad-CAM"``).
    ranking : {"magnitude", "value"}
        How its map ranks pixels, see :data:`RANKINGS`.
    defaults : mapping
        ``{parameter: default}``: the keywords ``compute`` takes beyond
        ``score`` and ``batch_size``, each with its default.
    """

    name: str
    compute: Callable[..., np.ndarray]
    label: str
    ranking: str = "value"
    # not hashed: a mapping is not hashable
    defaults: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        what = f"saliency method {self.name!r}"
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InvalidInputError(
                f"a saliency method's name must be a lowercase identifier such as "
                f"'integrated_gradients' (letters, digits, underscores); got {self.name!r}"
            )
        if self.name in _RESERVED_NAMES or self.name.startswith(_RESERVED_PREFIX):
            raise InvalidInputError(
                f"{what}: the comparison names its baselines {' and '.join(_RESERVED_NAMES)} "
                f"and its ClaDec maps {_RESERVED_PREFIX}*; choose another name"
            )
        if not callable(self.compute):
            raise InvalidInputError(
                f"{what}: compute must be a function compute(model, images, classes, *, "
                f"score, batch_size, **parameters); got {type(self.compute).__name__}"
            )
        if not isinstance(self.label, str) or not self.label.strip():
            raise InvalidInputError(f"{what}: label must be a non-empty str; got {self.label!r}")
        if self.ranking not in RANKINGS:
            raise InvalidInputError(
                f"{what}: ranking must be one of {', '.join(RANKINGS)}; got {self.ranking!r}"
            )
        if not isinstance(self.defaults, Mapping):
            raise InvalidInputError(
                f"{what}: defaults must be a mapping {{parameter: default}}; "
                f"got {type(self.defaults).__name__}"
            )
        bad = [
            k
            for k in self.defaults
            if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k)
        ]
        taken = [k for k in self.defaults if k in _CALL_KEYWORDS]
        if bad or taken:
            raise InvalidInputError(
                f"{what}: defaults must be keyed by parameter names other than saliency_maps' "
                f"own ({', '.join(_CALL_KEYWORDS)}); got {', '.join(map(repr, bad + taken))}"
            )
        object.__setattr__(self, "defaults", types.MappingProxyType(dict(self.defaults)))
        _check_signature(self)

    def __repr__(self) -> str:
        # The function by name, not address: the API page shows REGISTRY's value.
        compute = getattr(self.compute, "__qualname__", type(self.compute).__name__)
        return (
            f"SaliencyMethod(name={self.name!r}, compute={compute}, label={self.label!r}, "
            f"ranking={self.ranking!r}, defaults={dict(self.defaults)!r})"
        )


def _check_signature(method: SaliencyMethod) -> None:
    try:
        signature = inspect.signature(method.compute)
    except (TypeError, ValueError):  # a builtin without one: trust it
        return
    try:
        signature.bind(None, None, None, score="logit", batch_size=1, **method.defaults)
    except TypeError as error:
        params = "".join(f", {k}" for k in method.defaults)
        raise InvalidInputError(
            f"saliency method {method.name!r}: compute must accept (model, images, classes, *, "
            f"score, batch_size{params}); compute{signature} does not: {error}"
        ) from None


_REGISTRY: dict[str, SaliencyMethod] = {}


class _ReadOnlyRegistry(Mapping):
    """The registered saliency methods by name, the built-in ones first; read-only.

    :func:`register_method` adds to it, :func:`unregister_method` removes
    what was added.
    """

    def __init__(self, table: dict):
        self._table = table

    def __getitem__(self, name: str) -> SaliencyMethod:
        return self._table[name]

    def __iter__(self):
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"REGISTRY({', '.join(self._table)})"


#: The registered saliency methods by name, the built-in ones
#: (:data:`cladec.saliency.methods.METHODS`) first: a read-only view;
#: :func:`register_method` adds to it.
REGISTRY: Mapping[str, SaliencyMethod] = _ReadOnlyRegistry(_REGISTRY)
# The names cladec.saliency.methods registers: they cannot be unregistered.
_BUILT_IN: list[str] = []


def register_method(method: SaliencyMethod, *, replace: bool = False) -> SaliencyMethod:
    """Add a saliency method to :data:`REGISTRY`, so every part of the comparison knows it.

    Parameters
    ----------
    method : SaliencyMethod
        The method.
    replace : bool
        Replace the method registered under the same name (default: refuse).

    Returns
    -------
    SaliencyMethod
        ``method``, as registered.

    Raises
    ------
    ValueError
        If ``method`` is not a :class:`SaliencyMethod`, or its name is
        registered already and ``replace`` is false.
    """
    return add_entry(
        _REGISTRY,
        method,
        SaliencyMethod,
        replace=replace,
        what="saliency method",
        hint="pass replace=True to replace it, or choose another name",
    )


def unregister_method(name: str) -> SaliencyMethod:
    """Remove a registered saliency method that is not built in.

    Parameters
    ----------
    name : str
        The method's name.

    Returns
    -------
    SaliencyMethod
        The removed method.

    Raises
    ------
    ValueError
        If ``name`` is not registered, or is a built-in method.
    """
    if name in _BUILT_IN:
        raise InvalidInputError(
            f"{name!r} is a built-in saliency method and cannot be removed; "
            "register_method(..., replace=True) replaces it"
        )
    if name not in _REGISTRY:
        added = [m for m in _REGISTRY if m not in _BUILT_IN]
        raise InvalidInputError(
            f"no saliency method {name!r} is registered; registered besides the built-in "
            f"ones: {', '.join(added) or 'none'}"
        )
    return _REGISTRY.pop(name)


def _register_built_in(method: SaliencyMethod) -> None:
    register_method(method)
    _BUILT_IN.append(method.name)

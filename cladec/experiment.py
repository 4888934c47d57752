"""One call that prepares everything a lesson or the evaluation needs for one layer.

:func:`explain_layer` loads the data, trains (or loads from the model cache)
the classifier, the reference autoencoder and a ClaDec decoder per alpha,
under a run profile, and reports what it trained and what came from the
cache. The gallery and ``python -m cladec reproduce`` both go through it, so
they share trained models.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import keras

from .datasets import Dataset, load_dataset
from .explainers import ClaDec, RefAE, fit_alpha_sweep
from .profiles import Profile, get_profile
from .training import predict_batched, profile_data, train_classifier

__all__ = ["LayerExplanation", "explain_layer", "explain_subsets"]


@dataclass
class LayerExplanation:
    """The trained models explaining one layer, with the data they were trained on.

    Attributes
    ----------
    data : Dataset
        The dataset, cut to the profile's slice (use ``data.x_test`` to explain).
    classifier : keras.Model
        The explained classifier (``classifier.cladec_info`` holds its test accuracy).
    layer : str
        The explained layer.
    refae : RefAE or None
        The reference autoencoder.
    cladec : dict
        ``{alpha: ClaDec}`` (or ``{label: ClaDec}`` for :func:`explain_subsets`).
    profile : Profile
    seconds : float
        Wall time of the call.
    trained, cached : int
        How many models were trained now, and how many came from the cache.
    """

    data: Dataset
    classifier: keras.Model
    layer: str
    refae: RefAE | None
    cladec: dict
    profile: Profile
    seconds: float = 0.0
    trained: int = 0
    cached: int = 0
    notes: list = field(default_factory=list)

    @property
    def predicted(self):
        """int64 ``(N,)``: the classifier's predicted class for each test image (computed once)."""
        if getattr(self, "_predicted", None) is None:
            self._predicted = predict_batched(
                self.classifier, self.data.x_test[..., None] / 255.0
            ).argmax(axis=1)
        return self._predicted

    def reconstructions(self, x, keys=None, *, refae: bool = True) -> dict:
        """Rebuild images ``x`` with the RefAE and each ClaDec: ``{"RefAE": ..., key: ...}``.

        Parameters
        ----------
        x : ndarray
            uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` images.
        keys : sequence or None
            Which ClaDec explainers (alphas or subset labels); default: all, in order.
        refae : bool
            Include the RefAE row first.

        Returns
        -------
        dict
            float32 ``(N, 28, 28, 1)`` arrays, ready for :mod:`cladec.plotting`.
        """
        rows = {"RefAE": self.refae.reconstruct(x)} if refae and self.refae is not None else {}
        for key in self.cladec if keys is None else keys:
            rows[key] = self.cladec[key].reconstruct(x)
        return rows

    def summary(self) -> str:
        """One line: the profile, the time, what was trained and what came from the cache."""
        accuracy = self.classifier.cladec_info.get("val_accuracy", float("nan"))
        return (
            f"{self.profile.describe()}: {self.layer} of the {self.data.name} classifier "
            f"(test accuracy {accuracy:.4f}); {self.trained} model(s) trained, "
            f"{self.cached} from the cache, {self.seconds:.0f} s"
        )


def _prepare(dataset, classifier_kind, profile, seed, verbose):
    profile = get_profile(profile)
    full = load_dataset(dataset) if isinstance(dataset, str) else dataset
    classifier = train_classifier(
        classifier_kind, full, profile=profile, seed=seed, verbose=verbose
    )
    fit = {
        "epochs": profile.decoder_epochs,
        "batch_size": profile.decoder_batch_size,
        "seed": seed,
        "verbose": verbose,
    }
    return profile, profile_data(full, profile), classifier, fit


def _refae_fit(fit: dict, profile: Profile) -> dict:
    epochs, batch_size = profile.refae_settings()
    return {**fit, "epochs": epochs, "batch_size": batch_size}


def _explanation(data, clf, layer, ref, explainers, profile, start) -> LayerExplanation:
    """Bundle the models and count what was trained now and what came from the cache."""
    models = [m for m in (ref, *explainers.values()) if m is not None]
    cached = sum(bool(m.from_cache) for m in models) + int(clf.cladec_info["from_cache"])
    trained = len(models) + 1 - cached
    return LayerExplanation(
        data, clf, layer, ref, explainers, profile, time.perf_counter() - start, trained, cached
    )


def explain_layer(
    dataset: str | Dataset,
    layer: str,
    *,
    classifier: str = "perfect",
    alphas: Sequence[float] = (0.0, 0.5, 0.99, 0.999),
    refae: bool = True,
    profile: str | Profile | None = None,
    seed: int = 0,
    verbose: int = 1,
    **explainer_kwargs,
) -> LayerExplanation:
    """Train or load the classifier, RefAE and one ClaDec per alpha for one layer.

    Parameters
    ----------
    dataset : str or Dataset
        ``"mnist"``, ``"fashion_mnist"`` or a loaded :class:`~cladec.datasets.Dataset`.
    layer : str
        ``"my_conv"`` or ``"my_dense"``.
    classifier : {"perfect", "diff"}
        The classifier architecture.
    alphas : sequence of float
        The ClaDec alphas, trained together in one pass.
    refae : bool
        Also train the reference autoencoder.
    profile : str, Profile or None
        The run profile (default ``CLADEC_PROFILE``): data slice and epochs.
    seed : int
        Seeds every model.
    verbose : int
        1 prints one line per epoch of whatever trains.
    **explainer_kwargs
        Passed to :class:`ClaDec` and :class:`RefAE` (``units``, ``loss_scale``, ...).

    Returns
    -------
    LayerExplanation
    """
    start = time.perf_counter()
    profile, data, clf, fit = _prepare(dataset, classifier, profile, seed, verbose)
    ref = (
        RefAE(clf, layer, **explainer_kwargs).fit(data.x_train, **_refae_fit(fit, profile))
        if refae
        else None
    )
    sweep = fit_alpha_sweep(
        clf, layer, list(alphas), data.x_train, data.y_train, **fit, **explainer_kwargs
    )
    return _explanation(data, clf, layer, ref, sweep, profile, start)


def explain_subsets(
    dataset: str | Dataset,
    layer: str,
    subsets: dict,
    *,
    classifier: str = "diff",
    alpha: float = 0.0,
    profile: str | Profile | None = None,
    seed: int = 0,
    verbose: int = 1,
) -> LayerExplanation:
    """Train or load one ClaDec per neuron subset of a layer (and a RefAE of the whole layer).

    Parameters
    ----------
    subsets : dict
        ``{label: request}``, where a request is a dict of :class:`ClaDec`
        keywords, e.g. ``{"50 %": {"units": 0.5}, "top 3": {"top_k": 3}}``.
    alpha : float
        The alpha of every subset decoder (the reference uses 0).

    Other parameters are those of :func:`explain_layer`.
    """
    start = time.perf_counter()
    profile, data, clf, fit = _prepare(dataset, classifier, profile, seed, verbose)
    ref = RefAE(clf, layer).fit(data.x_train, **_refae_fit(fit, profile))
    explainers = {
        label: ClaDec(clf, layer, alpha=alpha, **request).fit(data.x_train, data.y_train, **fit)
        for label, request in subsets.items()
    }
    return _explanation(data, clf, layer, ref, explainers, profile, start)

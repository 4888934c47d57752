"""The tutorials' entry point: one call prepares everything a lesson needs for one layer.

:func:`explain_layer` loads the data, obtains (from the cache, the shipped
models, or by training) the classifier, the reference autoencoder and a ClaDec
decoder per alpha, under a run profile, and reports where each came from.
The gallery and ``python -m cladec reproduce`` both go through it, so they
share trained models. :func:`start_lesson` is the first cell of a tutorial.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from ._logging import reporter
from .classifiers import TrainedClassifier, obtain_classifier
from .datasets import Dataset, load_dataset
from .examples import first_correct_per_class, select_examples
from .exceptions import InvalidInputError
from .explainers import ClaDec, fit_alpha_sweep
from .explanation import Explanation, explain
from .profiles import Profile, get_profile
from .refae import RefAE
from .store.records import training_seconds
from .training import predict_batched

__all__ = [
    "Examples",
    "LayerExplanation",
    "Lesson",
    "explain_layer",
    "explain_subsets",
    "start_lesson",
    "training_cost",
]


@dataclass
class Examples:
    """Test images picked for a figure, with what the column titles need.

    Parameters
    ----------
    index : ndarray
        int64 indices into the test set.
    images : ndarray
        uint8 ``(N, 28, 28)`` the picked test images.
    y_true, y_pred : ndarray
        int64 ``(N,)`` true and predicted classes.
    class_names : tuple of str
        The dataset's class names (digits for MNIST).
    """

    index: np.ndarray
    images: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    class_names: tuple

    @property
    def titles(self) -> dict:
        """Keyword arguments of the :mod:`cladec.plotting` grids that title the columns."""
        return {"y_true": self.y_true, "y_pred": self.y_pred, "class_names": self.class_names}

    @property
    def wrong(self) -> np.ndarray:
        """bool ``(N,)``: which picked images the classifier misread."""
        return self.y_true != self.y_pred


@dataclass
class LayerExplanation:
    """The trained models explaining one layer, with the data they were trained on.

    Parameters
    ----------
    data : Dataset
        The dataset, cut to the profile's slice (use ``data.x_test`` to explain).
    trained_classifier : TrainedClassifier
        The explained classifier, its test accuracy and where it came from.
    layer : str
        The explained layer.
    refae : RefAE or None
        The reference autoencoder.
    cladec : dict
        ``{alpha: ClaDec}`` (or ``{label: ClaDec}`` for :func:`explain_subsets`).
    profile : Profile
        The profile everything was trained under.
    seconds : float
        Wall time of the call.
    seed : int
        The seed every model was obtained with.
    """

    data: Dataset
    trained_classifier: TrainedClassifier
    layer: str
    refae: RefAE | None
    cladec: dict
    profile: Profile
    seconds: float = 0.0
    seed: int = 0
    _predicted: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def classifier(self):
        """The explained ``keras.Model``."""
        return self.trained_classifier.model

    @property
    def models(self) -> list:
        """The RefAE and the ClaDec explainers (not the classifier)."""
        return [m for m in (self.refae, *self.cladec.values()) if m is not None]

    @property
    def trained(self) -> int:
        """How many models (classifier included) trained during the call."""
        records = [self.trained_classifier.record, *(m.record for m in self.models)]
        return sum(not r.from_cache for r in records)

    @property
    def cached(self) -> int:
        """How many models came from the user's cache or the shipped models."""
        return len(self.models) + 1 - self.trained

    def fit_settings(self, model: str = "cladec") -> dict:
        """The keywords this run's ``fit`` calls used: the same fit obtains the same model.

        Parameters
        ----------
        model : {"cladec", "refae"}
            Whose ``fit``: :meth:`cladec.ClaDec.fit` or :meth:`cladec.RefAE.fit`.

        Returns
        -------
        dict
            ``epochs``, ``batch_size``, ``seed``, ``verbose=0`` and the
            ``context`` the store records beside the weights.
        """
        if model not in ("cladec", "refae"):
            raise InvalidInputError(f"fit_settings takes 'cladec' or 'refae'; got {model!r}")
        fit = {
            "epochs": self.profile.decoder_epochs,
            "batch_size": self.profile.decoder_batch_size,
            "seed": self.seed,
            "verbose": 0,
            "context": _fit_context(self.data.name, self.profile),
        }
        return _refae_fit(fit, self.profile) if model == "refae" else fit

    def refae_with_seed(self, seed: int, *, verbose: int = 1) -> RefAE:
        """The run's RefAE trained again, with the same settings, from another seed.

        Two RefAEs that differ only in their seed show the noise floor of a
        difference map: how much two decoders trained alike differ. A
        ClaDec - RefAE difference no larger than theirs says nothing.

        Parameters
        ----------
        seed : int
            Seeds the new RefAE's initial weights and batch order (the run's own
            used the run's ``seed``).
        verbose : int
            1 prints progress lines.

        Returns
        -------
        RefAE
            From the cache or the shipped models when it was trained before.
        """
        ref = self.refae
        if ref is None:
            raise InvalidInputError("this run has no RefAE (it was made with refae=False)")
        if ref._custom_decoder is not None or ref.top_k is not None:
            raise InvalidInputError(
                "refae_with_seed repeats the default RefAE of a layer or unit list; "
                "a custom decoder or top_k needs RefAE(...).fit(..., seed=...) by hand"
            )
        again = RefAE(
            self.classifier,
            self.layer,
            units=ref.unit_indices,
            loss_scale=ref.loss_scale,
            learning_rate=ref.learning_rate,
            epsilon=ref.epsilon,
        )
        fit = {
            "seed": seed,
            "verbose": verbose,
            "context": _fit_context(self.data.name, self.profile),
        }
        return again.fit(self.data.x_train, **_refae_fit(fit, self.profile))

    @property
    def predicted(self) -> np.ndarray:
        """int64 ``(N,)``: the classifier's predicted class for each test image (computed once)."""
        if self._predicted is None:
            probs = predict_batched(self.classifier, self.data.x_test[..., None] / np.float32(255))
            self._predicted = probs.argmax(axis=1).astype(np.int64)
        return self._predicted

    def _examples(self, index) -> Examples:
        data = self.data
        return Examples(
            index, data.x_test[index], data.y_test[index], self.predicted[index], data.class_names
        )

    def pick(self, n_right: int = 3, n_wrong: int = 5, seed: int = 0, classes=None) -> Examples:
        """Test images the classifier got right and wrong (:func:`cladec.examples.select_examples`).

        Parameters
        ----------
        n_right, n_wrong : int
            How many of each (the reference's figures: 3 and 5).
        seed : int
            Seeds the choice; the same seed picks the same images.
        classes : int, str, sequence or None
            Only images whose true class is among these (labels or class names).

        Returns
        -------
        Examples
        """
        index = select_examples(
            self.predicted,
            self.data.y_test,
            n_right,
            n_wrong,
            seed,
            classes,
            class_names=self.data.class_names,
        )
        return self._examples(index)

    def first_correct_per_class(self) -> Examples:
        """The first correctly classified test image of each class (the subset figures)."""
        return self._examples(first_correct_per_class(self.predicted, self.data.y_test))

    def explain(self, x, keys: Sequence | None = None) -> Explanation:
        """Reconstruct images ``x`` with the RefAE and each ClaDec (or those in ``keys``).

        Parameters
        ----------
        x : ndarray
            uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` images.
        keys : sequence or None
            Which ClaDec explainers (alphas or subset labels); default: all, in order.

        Returns
        -------
        Explanation
            ``rows()`` for a reconstruction grid, ``differences`` for the maps.
        """
        chosen = self.cladec if keys is None else {k: self.cladec[k] for k in keys}
        return explain(chosen, self.refae, x)

    def records(self) -> list:
        """The :class:`~cladec.ModelRecord` of every model here: classifier, RefAE, decoders."""
        found = [self.trained_classifier.record]
        found += [self.refae.record] if self.refae is not None else []
        return found + [e.record for e in self.cladec.values()]

    def sources(self) -> str:
        """Where each model came from, one line each."""
        lines = [f"  classifier: {self.trained_classifier.record.describe()}"]
        if self.refae is not None:
            lines.append(f"  RefAE: {self.refae.record.describe()}")
        lines += [f"  ClaDec {key}: {e.record.describe()}" for key, e in self.cladec.items()]
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the profile, the time, what was trained and what came from the store."""
        return (
            f"{self.profile.describe()}: {self.layer} of the {self.data.name} classifier "
            f"(test accuracy {self.trained_classifier.test_accuracy:.4f}); {self.trained} model(s) "
            f"trained, {self.cached} from the cache or shipped, {self.seconds:.0f} s"
        )


def _prepare(dataset, classifier_kind, profile, seed, verbose):
    profile = get_profile(profile)
    full = load_dataset(dataset) if isinstance(dataset, str) else dataset
    classifier = obtain_classifier(
        classifier_kind, full, profile=profile, seed=seed, verbose=verbose
    )
    fit = {
        "epochs": profile.decoder_epochs,
        "batch_size": profile.decoder_batch_size,
        "seed": seed,
        "verbose": verbose,
        "context": _fit_context(full.name, profile),
    }
    return profile, profile.slice(full), classifier, fit


def _fit_context(dataset: str, profile: Profile) -> dict:
    """What a store entry records about the run that trained it (for re-measuring it)."""
    return {"dataset": dataset, "profile": profile.name}


def _refae_fit(fit: dict, profile: Profile) -> dict:
    epochs, batch_size = profile.refae_settings()
    return {**fit, "epochs": epochs, "batch_size": batch_size}


def explain_layer(
    dataset: str | Dataset,
    layer: str,
    *,
    classifier: str | Callable[[], keras.Model] = "perfect",
    alphas: Sequence[float] = (0.0, 0.5, 0.99, 0.999),
    refae: bool = True,
    target: str = "labels",
    profile: str | Profile | None = None,
    seed: int = 0,
    verbose: int = 1,
    **explainer_kwargs,
) -> LayerExplanation:
    """Obtain the classifier, RefAE and one ClaDec per alpha for one layer.

    Parameters
    ----------
    dataset : str or Dataset
        ``"mnist"``, ``"fashion_mnist"`` or a loaded :class:`~cladec.datasets.Dataset`.
    layer : str
        ``"my_conv"`` or ``"my_dense"`` of the reference classifiers, or a
        layer of your own classifier, by name.
    classifier : {"perfect", "diff"} or callable
        The classifier architecture, or a function returning an untrained
        ``keras.Model`` of your own (:func:`cladec.obtain_classifier`); it is
        trained once under the profile and stored like the others.
    alphas : sequence of float
        The ClaDec alphas, trained together in one pass.
    refae : bool
        Also obtain the reference autoencoder.
    target : {"labels", "predictions"}
        ClaDec's classification target (:class:`~cladec.ClaDec`): the true
        labels (the reference) or the classifier's own predictions.
    profile : str, Profile or None
        The run profile (default ``CLADEC_PROFILE``): data slice and epochs.
    seed : int
        Seeds every model.
    verbose : int
        1 prints one line per epoch of whatever trains, and where each model came from.
    **explainer_kwargs
        Passed to :class:`ClaDec` and :class:`RefAE` (``units``, ``loss_scale``, ...).

    Returns
    -------
    LayerExplanation
    """
    start = time.perf_counter()
    profile, data, clf, fit = _prepare(dataset, classifier, profile, seed, verbose)
    ref = None
    if refae:
        ref = RefAE(clf, layer, **explainer_kwargs).fit(data.x_train, **_refae_fit(fit, profile))
    sweep = fit_alpha_sweep(
        clf,
        layer,
        list(alphas),
        data.x_train,
        data.y_train,
        target=target,
        **fit,
        **explainer_kwargs,
    )
    return LayerExplanation(
        data, clf, layer, ref, sweep, profile, time.perf_counter() - start, seed=seed
    )


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
    """Obtain one ClaDec per neuron subset of a layer (and a RefAE of the whole layer).

    Parameters
    ----------
    dataset, layer
        As for :func:`explain_layer`.
    subsets : dict
        ``{label: request}``, where a request is a dict of :class:`ClaDec`
        keywords, e.g. ``{"50 %": {"units": 0.5}, "top 3": {"top_k": 3}}``.
    classifier : {"perfect", "diff"}
        The classifier architecture.
    alpha : float
        The alpha of every subset decoder (the reference uses 0).
    profile, seed, verbose
        As for :func:`explain_layer`.

    Returns
    -------
    LayerExplanation
    """
    start = time.perf_counter()
    profile, data, clf, fit = _prepare(dataset, classifier, profile, seed, verbose)
    ref = RefAE(clf, layer).fit(data.x_train, **_refae_fit(fit, profile))
    explainers = {
        label: ClaDec(clf, layer, alpha=alpha, **request).fit(data.x_train, data.y_train, **fit)
        for label, request in subsets.items()
    }
    return LayerExplanation(
        data, clf, layer, ref, explainers, profile, time.perf_counter() - start, seed=seed
    )


def training_cost(*parts) -> float:
    """What training the models behind ``parts`` from scratch costs, from their records.

    Parameters
    ----------
    *parts : LayerExplanation or explainer
        What a tutorial used; a model shared by several parts counts once, and
        each sweep counts once, whole (:func:`cladec.records.training_seconds`).

    Returns
    -------
    float
        Seconds.
    """
    records = {}
    for part in parts:
        for record in part.records() if hasattr(part, "records") else [part.record]:
            if record is not None:
                records[record.key] = record
    return training_seconds(r.meta for r in records.values())


@dataclass
class Lesson:
    """What a tutorial's first cell sets up: the profile, a clock, a log line.

    Parameters
    ----------
    profile : Profile
        Resolved once from ``CLADEC_PROFILE`` (or the name given) and passed down.
    started : float
        ``time.perf_counter()`` at the start.
    """

    profile: Profile
    started: float

    def elapsed(self) -> float:
        """Seconds since the lesson started."""
        return time.perf_counter() - self.started

    def finish(self) -> str:
        """The closing line every tutorial prints."""
        return (
            f"Example finished in {self.elapsed():.0f} s under the {self.profile.name!r} profile."
        )


def start_lesson(profile: str | Profile | None = None, *, verbose: int = 1) -> Lesson:
    """Resolve the profile once, print its banner, and start the clock.

    Parameters
    ----------
    profile : str, Profile or None
        Default: ``CLADEC_PROFILE``, else ``full``.
    verbose : int
        1 prints the banner.

    Returns
    -------
    Lesson
    """
    lesson = Lesson(get_profile(profile), time.perf_counter())
    log = reporter(verbose)
    if log:
        log(lesson.profile.banner())
    return lesson

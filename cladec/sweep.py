"""One pass over the data for many ClaDec decoders of one layer.

The layer codes are computed once; each batch goes through all the decoders
at once, and the frozen classifier scores all their reconstructions in one
call (:class:`cladec.reconstructors.ReconstructionSweep`). Every decoder goes
through the store's cache-or-train step, so cached alphas are loaded and only
the others train.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from ._atomic import array_digest
from ._inputs import as_images, as_labels, check_alpha
from ._logging import reporter
from .exceptions import InvalidInputError
from .reconstructors import fit_reconstructors
from .store import ModelRequest, Trained, obtain
from .training import predict_batched
from .units import resolve_units

__all__ = ["fit_decoders"]


def _sweep_inputs(classifier, first, x, y, needs_labels: bool):
    images = as_images(x, first.image_shape)
    num_classes = int(classifier.output_shape[-1])
    if y is not None:
        return images, as_labels(y, len(images), num_classes)
    if needs_labels:
        raise InvalidInputError("y (class labels) is needed to train ClaDec with alpha > 0")
    return images, None


def _validation_codes(first, classifier, validation_data, needs_labels: bool):
    if validation_data is None:
        return None
    val_x, val_y = (
        validation_data if isinstance(validation_data, tuple) else (validation_data, None)
    )
    images, labels = _sweep_inputs(classifier, first, val_x, val_y, needs_labels)
    return first.layer_codes(images), images, labels


def fit_decoders(
    classifier: keras.Model,
    explainers: Sequence,
    alphas: Sequence[float],
    x,
    y=None,
    *,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    validation_data=None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    cache=True,
    verbose: int = 1,
    context: Mapping | None = None,
) -> dict:
    """Fit unfitted ClaDec explainers of one layer in one pass per neuron subset.

    The engine of :func:`cladec.fit_alpha_sweep` and :meth:`cladec.ClaDec.fit`:
    every explainer's decoder is obtained from the store or trained, side by
    side with the others that read the same units.

    Parameters
    ----------
    classifier : keras.Model
        The explained classifier.
    explainers : sequence of ClaDec
        The explainers to fit.
    alphas : sequence of float
        The order of the returned mapping (may repeat).
    x, y, epochs, batch_size, seed, validation_data, callbacks, cache, verbose, context
        As for :meth:`cladec.ClaDec.fit`.

    Returns
    -------
    dict
        ``{alpha: fitted ClaDec}`` in the order of ``alphas``.
    """
    first = explainers[0]
    needs_labels = any(e.alpha > 0 and _target(e) == "labels" for e in explainers)
    images, labels = _sweep_inputs(classifier, first, x, y, needs_labels)
    if any(e.alpha > 0 for e in explainers):
        _check_probabilities(classifier, images[:64])
    # The codes are needed to pick top-k units and to train; a sweep served from
    # the store needs neither (encoding 60,000 images costs seconds).
    codes = first.layer_codes(images) if any(e.unit_indices is None for e in explainers) else None
    for e in explainers:
        if e.unit_indices is None:
            e.unit_indices = resolve_units(None, e.top_k, e.code_size, codes)
    validation = _validation_codes(first, classifier, validation_data, needs_labels)
    targets = {"labels": labels if needs_labels else None}
    if any(_target(e) == "predictions" for e in explainers):
        # Computed only to train: the key names the target and the classifier's
        # fingerprint instead, so a machine whose float rounding flips one of 60,000
        # predictions still finds the stored decoder.
        targets["predictions"] = _Predicted(classifier, images)
        if validation is not None:
            validation = (*validation, _Predicted(classifier, validation[1]))
    run = _Sweep(
        classifier,
        codes,
        images,
        validation,
        epochs,
        batch_size,
        seed,
        callbacks,
        reporter(verbose),
    )
    # Explainers with different subsets read different inputs, and explainers with
    # different targets need other labels: one pass per (subset, target, loss).
    groups: dict[tuple, list] = {}
    for e in explainers:
        groups.setdefault((e.unit_indices.tobytes(), _target(e), e.loss.name), []).append(e)
    for (_units, target, _loss), group in groups.items():
        data_hash = array_digest(images, targets[target] if target == "labels" else None)
        initial = {id(e): e.build_decoder(seed) for e in group}
        requests = [
            ModelRequest(
                e.key_fields(epochs, batch_size, seed, data_hash, initial[id(e)]),
                lambda e=e: e.build_decoder(seed),
                e.label(context, "ClaDec decoder"),
                e.store_context(context),
            )
            for e in group
        ]
        by_request = {id(r): e for r, e in zip(requests, group)}
        results = obtain(
            False if callbacks else cache,
            requests,
            lambda missing, by_request=by_request, initial=initial, target=target: run.train(
                [by_request[id(r)] for r in missing], initial, targets[target], target
            ),
            log=run.log,
        )
        for e, (decoder, record) in zip(group, results):
            e.decoder, e.record = decoder, record
    by_alpha = {e.alpha: e for e in explainers}
    if len(by_alpha) < len(explainers):
        raise InvalidInputError(
            "two explainers of one sweep share an alpha; fit those with different targets or "
            "settings in separate sweeps"
        )
    return {check_alpha(a): by_alpha[check_alpha(a)] for a in alphas} if alphas else by_alpha


@dataclass
class _Sweep:
    """The data and settings one sweep's decoders train with."""

    classifier: keras.Model
    codes: np.ndarray | None  # computed on first use when None
    images: np.ndarray
    validation: tuple | None  # (codes, images, labels[, predicted labels])
    epochs: int
    batch_size: int
    seed: int
    callbacks: Sequence
    log: object

    def train(self, members: list, initial: dict, labels, target: str) -> list[Trained]:
        if isinstance(labels, _Predicted):
            labels = labels()
        first, units = members[0], members[0].unit_indices
        if self.log:
            alphas = ", ".join(f"{e.alpha:g}" for e in members)
            self.log(
                f"  ClaDec {first.layer_name} ({first.describe_units()}): training alpha {alphas} "
                f"together, {self.epochs} epochs on {len(self.images)} images"
                + (", towards the classifier's predictions" if target == "predictions" else "")
            )
        decoders = [initial[id(e)] for e in members]
        if self.codes is None:
            self.codes = first.layer_codes(self.images)
        validation = None
        if self.validation is not None:
            v_codes, v_images, *v_labels = self.validation
            v_target = v_labels[-1]() if target == "predictions" else v_labels[0]
            validation = (v_codes[:, units], v_images, v_target)
        histories = fit_reconstructors(
            decoders,
            self.codes[:, units],
            self.images,
            labels,
            alphas=[e.alpha for e in members],
            classifier=self.classifier,
            loss_scale=first.loss_scale,
            loss=first.loss,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=first.learning_rate,
            epsilon=first.epsilon,
            seed=self.seed,
            validation_data=validation,
            callbacks=self.callbacks,
            log=self.log,
            labels=[f"a={e.alpha:g}" for e in members],
        )
        return [Trained(d, h, h.last()) for d, h in zip(decoders, histories)]


def _target(explainer) -> str:
    """The labels a decoder trains towards; at alpha 0 the classification term is off."""
    return explainer.target if explainer.alpha > 0 else "labels"


class _Predicted:
    """The classifier's predicted classes of ``images``, computed on first call."""

    def __init__(self, classifier: keras.Model, images: np.ndarray):
        self.classifier, self.images, self._labels = classifier, images, None

    def __call__(self) -> np.ndarray:
        if self._labels is None:
            probs = predict_batched(self.classifier, self.images)
            self._labels = probs.argmax(axis=1).astype(np.int64)
        return self._labels


def _check_probabilities(classifier: keras.Model, sample: np.ndarray) -> None:
    """Refuse a classifier whose output is not a vector of class probabilities."""
    shape = classifier.output_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or (shape[-1] or 0) < 2:
        raise InvalidInputError(
            f"ClaDec with alpha > 0 needs a classifier with one output of shape (N, K) class "
            f"probabilities, K >= 2; {classifier.name!r} outputs {shape}"
        )
    probs = predict_batched(classifier, sample)
    if probs.min() < -1e-6 or probs.max() > 1 + 1e-6:
        raise InvalidInputError(
            f"ClaDec with alpha > 0 needs class probabilities (a softmax or sigmoid output); "
            f"{classifier.name!r} outputs values in [{probs.min():.3g}, {probs.max():.3g}] "
            "(logits?). Add a softmax layer on top of the classifier."
        )

"""What ClaDec and RefAE share: the explained layer, its code, the neuron subset, the decoder."""

from __future__ import annotations

import json
import math
import warnings
import weakref
from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np

from . import architectures
from ._atomic import array_digest
from ._inputs import as_images, image_shape_of
from .classifiers import TrainedClassifier
from .exceptions import InvalidInputError, NotFittedError
from .history import TrainingHistory
from .losses import DEFAULT_LOSS, Eq1Loss, check_loss_scale, get_loss
from .store import ModelRecord
from .store.keys import architecture_digest, fingerprint_model
from .training import predict_batched, seed_everything
from .units import resolve_units

__all__ = ["LayerExplainer", "as_model", "read_state"]

# One encoder model per (classifier, layer), shared by every explainer of that
# layer: the remembered forward passes are keyed by the model, so the decoders
# of an alpha sweep then read the test set's codes from one pass, not one each.
_encoders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _shared_encoder(classifier: keras.Model, layer_name: str) -> keras.Model:
    by_layer = _encoders.setdefault(classifier, {})
    if layer_name not in by_layer:
        by_layer[layer_name] = keras.Model(
            classifier.input, classifier.get_layer(layer_name).output, name=f"encoder_{layer_name}"
        )
    return by_layer[layer_name]


_REFERENCE = {"epochs": 10, "batch_size": 32, "learning_rate": 5e-3, "epsilon": 1e-4}
#: The training loop's version, part of every decoder's and RefAE's store key.
#: 1: a hand-written GradientTape loop; 2: ``keras.Model.fit`` (other batch
#: order, so other weights: entries of recipe 1 are never reused).
RECIPE = 2


def as_model(classifier) -> keras.Model:
    model = classifier.model if isinstance(classifier, TrainedClassifier) else classifier
    if not isinstance(model, keras.Model):
        raise InvalidInputError(
            f"classifier must be a keras.Model (or what cladec.obtain_classifier returns); "
            f"got {type(classifier).__name__}"
        )
    return model


class LayerExplainer:
    """What ClaDec and RefAE share: the layer, its code, the subset, the decoder, the record."""

    kind = "explainer"

    def __init__(
        self,
        classifier,
        layer: str | int,
        *,
        units=None,
        top_k: int | None = None,
        decoder: keras.Model | None = None,
        loss_scale: str = "sse",
        loss: str | Eq1Loss = DEFAULT_LOSS,
        learning_rate: float = _REFERENCE["learning_rate"],
        epsilon: float = _REFERENCE["epsilon"],
    ):
        self.classifier = as_model(classifier)
        self.layer = architectures.resolve_layer(self.classifier, layer)
        self.layer_name = self.layer.name
        self.image_shape = image_shape_of(self.classifier)
        self.layer_shape = tuple(self.layer.output.shape[1:])
        self.code_size = int(math.prod(self.layer_shape))
        self.loss_scale = check_loss_scale(loss_scale)
        self.loss = get_loss(loss)
        self.learning_rate, self.epsilon = float(learning_rate), float(epsilon)
        self.top_k = top_k
        # Fractions and index lists are resolved now; top-k needs the codes of the data.
        self.unit_indices = (
            None if top_k is not None else resolve_units(units, None, self.code_size)
        )
        if top_k is not None:  # check the request now; the units are picked in fit()
            resolve_units(units, top_k, self.code_size, np.zeros((1, self.code_size)))
        self._custom_decoder = decoder
        self.decoder: keras.Model | None = None
        self.record: ModelRecord | None = None
        self.classifier_kind = architectures.classifier_kind(self.classifier)
        self._encoder_model: keras.Model | None = None

    # -- what a fitted explainer reports -----------------------------------
    @property
    def history(self) -> TrainingHistory | None:
        """Every epoch's losses of the model (as recorded when it trained), or ``None`` before fit."""
        return self.record.history if self.record is not None else None

    @property
    def from_cache(self) -> bool:
        """True when fit trained nothing: the model came from the cache or the shipped models."""
        return self.record is not None and self.record.from_cache

    @property
    def n_units(self) -> int:
        """Number of units the decoder reads (the subset size)."""
        return int(self.top_k) if self.unit_indices is None else int(self.unit_indices.size)

    def describe_units(self) -> str:
        """``"all 128 units"`` or ``"5 of 10 units"``."""
        if self.n_units == self.code_size:
            return f"all {self.code_size} units"
        return f"{self.n_units} of {self.code_size} units"

    # -- codes and decoders ------------------------------------------------
    def layer_codes(self, x) -> np.ndarray:
        """Return the explained layer's activations, flattened: float32 ``(N, n)``.

        The classifier runs in inference mode (no dropout, BatchNorm running statistics).

        Parameters
        ----------
        x : ndarray
            Images of the classifier's input shape ``(H, W, C)``: uint8
            ``(N, H, W)`` or ``(N, H, W, C)`` (divided by 255), or float
            ``(N, H, W, C)`` in [0, 1].

        Returns
        -------
        ndarray
            float32 ``(N, code_size)``: every unit of the layer, not only the
            explained subset.
        """
        if self._encoder_model is None:
            self._encoder_model = _shared_encoder(self.classifier, self.layer_name)
        codes = predict_batched(self._encoder_model, as_images(x, self.image_shape))
        # predict_batched returned a fresh array: no second copy of it
        return codes.reshape(codes.shape[0], -1).astype(np.float32, copy=False)

    def build_decoder(self, seed: int) -> keras.Model:
        """A fresh decoder for this layer (or the custom one, checked), initialised from ``seed``.

        Parameters
        ----------
        seed : int
            Passed to :func:`cladec.training.seed_everything` before the
            decoder is built. A custom ``decoder`` is returned as given (same
            object, its weights untouched) once its shapes are checked.

        Returns
        -------
        keras.Model
            Maps float32 ``(N, n_units)`` codes to ``(N, H, W, C)`` images in
            [0, 1]: :func:`cladec.architectures.build_decoder` for this layer,
            or the custom decoder.

        Raises
        ------
        ValueError
            If the custom decoder does not map ``(N, n_units)`` to the
            classifier's image shape.
        """
        seed_everything(seed)
        if self._custom_decoder is not None:
            dec = self._custom_decoder
            if (
                tuple(dec.input_shape[1:]) != (self.n_units,)
                or tuple(dec.output_shape[1:]) != self.image_shape
            ):
                raise InvalidInputError(
                    f"decoder must map (N, {self.n_units}) codes to (N, {', '.join(map(str, self.image_shape))}) "
                    f"images; it maps {dec.input_shape} to {dec.output_shape}"
                )
            return dec
        spatial = (
            self.layer_shape
            if len(self.layer_shape) == 3 and self.n_units == self.code_size
            else None
        )
        return architectures.build_decoder(
            self.n_units,
            classifier_kind=self.classifier_kind,
            layer_name=self.layer_name,
            spatial_shape=spatial,
            output_shape=self.image_shape,
            name=f"decoder_{self.layer_name}",
        )

    def _check_fitted(self):
        if self.decoder is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit() or load() first"
            )

    def _common_fields(self, epochs, batch_size, seed, data_hash) -> dict:
        return {
            "recipe": RECIPE,
            "loss": self.loss.name,
            "classifier": fingerprint_model(self.classifier),
            "classifier_layers": architecture_digest(self.classifier),
            "layer": self.layer_name,
            "units": array_digest(np.asarray(self.unit_indices, np.int64))[:16],
            "n_units": self.n_units,
            "loss_scale": self.loss_scale,
            "optimizer": {
                "name": "adam",
                "learning_rate": self.learning_rate,
                "epsilon": self.epsilon,
            },
            "epochs": int(epochs),
            "batch_size": int(batch_size),
            "seed": int(seed),
            "data": data_hash,
        }

    def label(self, context: Mapping | None, what: str) -> str:
        context = dict(context or {})
        parts = [context.get("dataset", "given images"), self.layer_name, *self._label_extra()]
        if self.n_units != self.code_size:
            parts.append(self.describe_units())
        if "randomised" in context:
            parts.append(f"classifier randomised from the top to {context['randomised'][1:]}")
        if "profile" in context:
            parts.append(f"profile {context['profile']}")
        return f"{what} ({', '.join(map(str, parts))})"

    def store_context(self, context: Mapping | None) -> dict:
        """What the store records beside the weights (not in the key): enough to rebuild this explainer.

        Parameters
        ----------
        context : mapping or None
            ``dataset`` and ``profile`` names from the caller.

        Returns
        -------
        dict
            The caller's context with the kind, layer, units and loss scale.
        """
        extra = {"alpha": self.alpha} if hasattr(self, "alpha") else {}
        return {
            **dict(context or {}),
            "explainer": self.kind,
            "layer": self.layer_name,
            "unit_indices": [int(i) for i in self.unit_indices],
            "loss_scale": self.loss_scale,
            **extra,
        }

    def _label_extra(self) -> list[str]:
        return []

    def _state(self) -> dict:
        return {
            "kind": self.kind,
            "layer": self.layer_name,
            "unit_indices": self.unit_indices.tolist(),
            "loss_scale": self.loss_scale,
            "loss": self.loss.name,
            "learning_rate": self.learning_rate,
            "epsilon": self.epsilon,
            "classifier_fingerprint": fingerprint_model(self.classifier),
            "history": self.history.to_dict() if self.history is not None else {},
        }

    def _restore_record(self, state: dict, folder: Path) -> None:
        meta = {
            "history": state.get("history", {}),
            "train_seconds": state.get("train_seconds", 0.0),
        }
        self.record = ModelRecord("cache", state.get("key", ""), {"saved_in": folder.name}, meta)

    def __repr__(self) -> str:
        state = "fitted" if self.decoder is not None else "not fitted"
        return (
            f"{type(self).__name__}(classifier={self.classifier.name!r}, layer={self.layer_name!r}, "
            f"{self._repr_extra()}units={self.describe_units()}, {state})"
        )

    def _repr_extra(self) -> str:
        return ""


def read_state(path, kind: str, classifier) -> tuple[dict, Path]:
    folder = Path(path)
    meta = folder / f"{kind}.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{folder} is not a saved {kind} explainer: {meta.name} is missing")
    state = json.loads(meta.read_text())
    if state.get("classifier_fingerprint") != fingerprint_model(classifier):
        warnings.warn(
            f"the classifier passed to load() differs from the one the explainer in {folder} "
            "was trained with; its reconstructions may not explain this classifier",
            RuntimeWarning,
            stacklevel=3,
        )
    return state, folder

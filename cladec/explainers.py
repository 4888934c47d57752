"""ClaDec and the reference autoencoder (RefAE): fit, reconstruct, explain, save, load.

:class:`ClaDec` explains one layer of a trained classifier: the classifier up
to that layer is a frozen encoder, and a decoder learns to rebuild the input
from the layer's (flattened) activations with the loss of eq. 1. :class:`RefAE`
has the same encoder and decoder architecture, starts from fresh weights and
trains everything with the reconstruction loss only. :func:`explain` reads
ClaDec's reconstruction against RefAE's: the difference is this package's way
of showing what the classifier's layer keeps that a code trained to rebuild
would not, and what it drops.

:func:`fit_alpha_sweep` trains the decoders of many alphas in one pass.
Every model goes through the store's one cache-or-train step.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import architectures
from ._atomic import array_digest, atomic_dir
from ._inputs import as_images, as_labels, check_alpha, image_shape_of
from ._logging import reporter
from .classifiers import TrainedClassifier
from .losses import check_loss_scale
from .store import ModelRecord, ModelRequest, Trained, fingerprint_model, obtain
from .training import (
    TrainingHistory,
    fit_reconstructors,
    predict_batched,
    recalibrate_batchnorm,
    seed_everything,
)
from .units import SelectUnits, resolve_units

__all__ = ["ClaDec", "RefAE", "Explanation", "explain", "fit_alpha_sweep", "RECIPE"]

_REFERENCE = {"epochs": 10, "batch_size": 32, "learning_rate": 5e-3, "epsilon": 1e-4}
#: The training loop's version, part of every decoder's and RefAE's store key.
#: 1: a hand-written GradientTape loop; 2: ``keras.Model.fit`` (other batch
#: order, so other weights: entries of recipe 1 are never reused).
RECIPE = 2


def _as_model(classifier) -> keras.Model:
    model = classifier.model if isinstance(classifier, TrainedClassifier) else classifier
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"classifier must be a keras.Model (or what cladec.obtain_classifier returns); "
            f"got {type(classifier).__name__}"
        )
    return model


class _LayerExplainer:
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
        learning_rate: float = _REFERENCE["learning_rate"],
        epsilon: float = _REFERENCE["epsilon"],
    ):
        self.classifier = _as_model(classifier)
        self.layer = architectures.resolve_layer(self.classifier, layer)
        self.layer_name = self.layer.name
        self.image_shape = image_shape_of(self.classifier)
        self.layer_shape = tuple(self.layer.output.shape[1:])
        self.code_size = int(math.prod(self.layer_shape))
        self.loss_scale = check_loss_scale(loss_scale)
        self.learning_rate, self.epsilon = float(learning_rate), float(epsilon)
        self._top_k = top_k
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
        return int(self._top_k) if self.unit_indices is None else int(self.unit_indices.size)

    def describe_units(self) -> str:
        """``"all 128 units"`` or ``"5 of 10 units"``."""
        if self.n_units == self.code_size:
            return f"all {self.code_size} units"
        return f"{self.n_units} of {self.code_size} units"

    # -- codes and decoders ------------------------------------------------
    def layer_codes(self, x) -> np.ndarray:
        """Return the explained layer's activations, flattened: float32 ``(N, n)``.

        The classifier runs in inference mode (no dropout, BatchNorm running statistics).
        """
        if self._encoder_model is None:
            self._encoder_model = keras.Model(
                self.classifier.input, self.layer.output, name=f"encoder_{self.layer_name}"
            )
        codes = predict_batched(self._encoder_model, as_images(x, self.image_shape))
        return codes.reshape(codes.shape[0], -1).astype(np.float32)

    def build_decoder(self, seed: int) -> keras.Model:
        """A fresh decoder for this layer (or the custom one, checked), initialised from ``seed``."""
        seed_everything(seed)
        if self._custom_decoder is not None:
            dec = self._custom_decoder
            if (
                tuple(dec.input_shape[1:]) != (self.n_units,)
                or tuple(dec.output_shape[1:]) != self.image_shape
            ):
                raise ValueError(
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
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted yet: call fit() or load() first"
            )

    def _common_fields(self, epochs, batch_size, seed, data_hash) -> dict:
        return {
            "recipe": RECIPE,
            "classifier": fingerprint_model(self.classifier),
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

    def _label(self, context: Mapping | None, what: str) -> str:
        context = dict(context or {})
        parts = [context.get("dataset", "given images"), self.layer_name, *self._label_extra()]
        if self.n_units != self.code_size:
            parts.append(self.describe_units())
        if "profile" in context:
            parts.append(f"profile {context['profile']}")
        return f"{what} ({', '.join(map(str, parts))})"

    def _label_extra(self) -> list[str]:
        return []

    def _state(self) -> dict:
        return {
            "kind": self.kind,
            "layer": self.layer_name,
            "unit_indices": self.unit_indices.tolist(),
            "loss_scale": self.loss_scale,
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


class ClaDec(_LayerExplainer):
    """Explain a layer of a classifier by decoding its activations (eq. 1).

    Parameters
    ----------
    classifier : keras.Model or TrainedClassifier
        A trained classifier mapping float32 ``(N, H, W, C)`` images in [0, 1]
        to ``(N, K)`` class probabilities. It is never modified.
    layer : str or int
        The explained layer, by name (``"my_dense"``) or index.
    alpha : float
        Weight of the classification loss in eq. 1, in [0, 1]. 0: a pure
        decoder of the layer; towards 1: fidelity to the classifier over
        fidelity to the input.
    units : None, float or sequence of int
        Explain a subset of the layer's neurons: a fraction ``p`` keeps the
        first ``int(n * p)`` units, a sequence keeps those indices.
    top_k : int or None
        Explain the ``k`` units with the largest mean activation on the training data.
    decoder : keras.Model or None
        Your own decoder, mapping ``(N, n_units)`` to ``(N, H, W, C)`` in [0, 1].
        Default: the reference decoder for the perfect/diff classifiers, else
        :func:`cladec.architectures.generic_decoder`.
    loss_scale : {"sse", "mse"}
        Reconstruction loss summed per image (reference) or averaged per pixel.
        Alpha trades against it, so the same alpha means more under ``"mse"``.
    learning_rate, epsilon : float
        Adam settings (reference: 5e-3, 1e-4).

    Examples
    --------
    >>> explainer = cladec.ClaDec(clf, layer="my_dense", alpha=0.99)  # doctest: +SKIP
    >>> explainer.fit(ds.x_train, ds.y_train, epochs=2)               # doctest: +SKIP
    >>> x_hat = explainer.reconstruct(ds.x_test[:8])                  # doctest: +SKIP
    """

    kind = "cladec"

    def __init__(self, classifier, layer: str | int, alpha: float = 0.0, **kwargs):
        super().__init__(classifier, layer, **kwargs)
        self.alpha = check_alpha(alpha)

    def _repr_extra(self) -> str:
        return f"alpha={self.alpha:g}, "

    def _label_extra(self) -> list[str]:
        return [f"alpha {self.alpha:g}"]

    def fit(
        self,
        x,
        y=None,
        *,
        epochs: int = _REFERENCE["epochs"],
        batch_size: int = _REFERENCE["batch_size"],
        seed: int = 0,
        validation_data=None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        cache=True,
        verbose: int = 1,
        context: Mapping | None = None,
    ) -> ClaDec:
        """Train the decoder on images ``x`` (and labels ``y``, needed when alpha > 0).

        Parameters
        ----------
        x : ndarray
            uint8 ``(N, 28, 28)`` or float32 ``(N, 28, 28, 1)`` in [0, 1].
        y : ndarray or None
            int ``(N,)`` class labels.
        epochs, batch_size : int
            Reference: 10 and 32.
        seed : int
            Seeds the decoder's initial weights and the batch order.
        validation_data : (x_val, y_val) or None
            Images (and labels) scored after every epoch, when the model trains now.
        callbacks : sequence of keras.callbacks.Callback
            Passed to ``keras.Model.fit``. A callback can change the weights
            (early stopping, schedules), so a fit with callbacks neither reads
            nor writes the cache.
        cache : bool or ModelStore
            Reuse a decoder trained before with identical settings (the
            user's cache, then the shipped models), and store a new one.
        verbose : int
            1 prints one line per epoch; 0 is silent.
        context : mapping or None
            ``dataset`` and ``profile`` names for the log lines and errors.

        Returns
        -------
        ClaDec
            ``self``, fitted; ``record`` says where the decoder came from,
            ``history`` holds every epoch's losses.
        """
        fit_alpha_sweep(
            self.classifier,
            self.layer_name,
            [self.alpha],
            x,
            y,
            explainers=[self],
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            validation_data=validation_data,
            callbacks=callbacks,
            cache=cache,
            verbose=verbose,
            context=context,
        )
        return self

    def reconstruct(self, x, *, batch_size: int = 512) -> np.ndarray:
        """Rebuild images from the layer's activations: float32 ``(N, 28, 28, 1)`` in [0, 1]."""
        self._check_fitted()
        codes = self.layer_codes(x)[:, self.unit_indices]
        return predict_batched(self.decoder, codes, batch_size).astype(np.float32)

    def key_fields(self, epochs, batch_size, seed, data_hash, decoder) -> dict:
        """The store key fields of this decoder for a training run (``decoder``: its initial state)."""
        return {
            "kind": "cladec",
            "alpha": self.alpha,
            "decoder_init": fingerprint_model(decoder),
            **self._common_fields(epochs, batch_size, seed, data_hash),
        }

    def save(self, path: str | Path) -> Path:
        """Save the decoder (Keras ``.keras``) and settings (``cladec.json``) in folder ``path``."""
        self._check_fitted()
        path = Path(path)
        with atomic_dir(path) as tmp:
            self.decoder.save(tmp / "decoder.keras")
            (tmp / "cladec.json").write_text(
                json.dumps({**self._state(), "alpha": self.alpha}, indent=2)
            )
        return path

    @classmethod
    def load(cls, path: str | Path, classifier) -> ClaDec:
        """Load an explainer saved by :meth:`save`, for the same trained ``classifier``."""
        classifier = _as_model(classifier)
        state, folder = _read_state(path, cls.kind, classifier)
        explainer = cls(
            classifier,
            state["layer"],
            alpha=state["alpha"],
            units=state["unit_indices"],
            loss_scale=state["loss_scale"],
            learning_rate=state["learning_rate"],
            epsilon=state["epsilon"],
        )
        explainer.decoder = keras.models.load_model(folder / "decoder.keras")
        explainer._restore_record(state, folder)
        return explainer


def _read_state(path, kind: str, classifier) -> tuple[dict, Path]:
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


def _synchronised_batchnorm(layer):
    """Clone a layer; BatchNormalization computes its statistics over all replicas' batches."""
    config = layer.get_config()
    if isinstance(layer, keras.layers.BatchNormalization):
        config["synchronized"] = True
    return layer.__class__.from_config(config)


class RefAE(_LayerExplainer):
    """The reference autoencoder: the classifier's architecture up to ``layer``, fresh weights.

    Encoder (same layers as the classifier up to ``layer``, newly initialised)
    and decoder (as :class:`ClaDec` would use) are trained together with the
    reconstruction loss only. It is one trained network with one budget, the
    baseline ClaDec is read against: what a code of the same size kept when it
    was trained to rebuild the image rather than to classify it.

    Parameters are those of :class:`ClaDec`, without ``alpha``.
    """

    kind = "refae"

    def __init__(self, classifier, layer: str | int, **kwargs):
        super().__init__(classifier, layer, **kwargs)
        self.autoencoder: keras.Model | None = None
        self.encoder: keras.Model | None = None
        self.seed = 0

    def build_autoencoder(self, seed: int) -> keras.Model:
        """A fresh encoder (the classifier's layers up to ``layer``) and decoder, as one model."""
        seed_everything(seed)
        # Under a multi-replica strategy, BatchNormalization must see the whole
        # batch, or data-parallel training would learn other statistics.
        distributed = tf.distribute.get_strategy().num_replicas_in_sync > 1
        fresh = keras.models.clone_model(
            self.classifier, clone_function=_synchronised_batchnorm if distributed else None
        )
        encoder = keras.Model(
            fresh.input,
            fresh.get_layer(self.layer_name).output,
            name=f"refae_encoder_{self.layer_name}",
        )
        decoder = self.build_decoder(seed + 1)
        inputs = keras.Input(self.image_shape, name="image")
        code = keras.layers.Flatten(name="code")(encoder(inputs))
        if self.n_units != self.code_size:
            code = SelectUnits(self.unit_indices, name="units")(code)
        return keras.Model(inputs, decoder(code), name=f"refae_{self.layer_name}")

    def _adopt(self, autoencoder: keras.Model) -> None:
        self.autoencoder = autoencoder
        self.encoder = autoencoder.get_layer(f"refae_encoder_{self.layer_name}")
        self.decoder = autoencoder.layers[-1]

    def fit(
        self,
        x,
        y=None,
        *,
        epochs: int = _REFERENCE["epochs"],
        batch_size: int = _REFERENCE["batch_size"],
        seed: int = 0,
        validation_data=None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        cache=True,
        verbose: int = 1,
        context: Mapping | None = None,
    ) -> RefAE:
        """Train encoder and decoder on images ``x`` (labels are not used; ``y`` only picks top-k units).

        Parameters are those of :meth:`ClaDec.fit`; ``validation_data`` may be images alone.
        """
        images = as_images(x, self.image_shape)
        if self.unit_indices is None:  # top-k units of the *classifier's* layer
            self.unit_indices = resolve_units(
                None, self._top_k, self.code_size, self.layer_codes(images)
            )
        self.seed = int(seed)
        fields = {
            "kind": "refae",
            "recalibrate_batchnorm": True,
            "init": fingerprint_model(self.build_autoencoder(seed)),
            **self._common_fields(epochs, batch_size, seed, array_digest(images)),
        }
        log = reporter(verbose)
        label = self._label(context, "RefAE")
        val_images = None
        if validation_data is not None:
            val_x = validation_data[0] if isinstance(validation_data, tuple) else validation_data
            val_images = as_images(val_x, self.image_shape, name="validation images")

        def train(_requests):
            if log:
                log(f"{label}: training {epochs} epochs on {len(images)} images")
            autoencoder = self.build_autoencoder(seed)
            [history] = fit_reconstructors(
                [autoencoder],
                images,
                images,
                None,
                alphas=[0.0],
                loss_scale=self.loss_scale,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=self.learning_rate,
                epsilon=self.epsilon,
                seed=seed,
                validation_data=None if val_images is None else (val_images, val_images, None),
                callbacks=callbacks,
                log=log,
                labels=["RefAE"],
            )
            # The fresh encoder's BatchNorm statistics lag behind its weights
            # (as for the classifiers); without this its inference-mode
            # reconstructions are far worse than during training.
            recalibrate_batchnorm(autoencoder, images)
            return [Trained(autoencoder, history, history.last())]

        request = ModelRequest(fields, lambda: self.build_autoencoder(seed), label)
        [(autoencoder, self.record)] = obtain(
            False if callbacks else cache, [request], train, log=log
        )
        self._adopt(autoencoder)
        return self

    def reconstruct(self, x, *, batch_size: int = 512) -> np.ndarray:
        """Rebuild images through the reference autoencoder: float32 ``(N, 28, 28, 1)`` in [0, 1]."""
        self._check_fitted()
        images = as_images(x, self.image_shape)
        return predict_batched(self.autoencoder, images, batch_size).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        """Save the autoencoder's weights and settings (``refae.json``) in folder ``path``."""
        self._check_fitted()
        path = Path(path)
        with atomic_dir(path) as tmp:
            self.autoencoder.save_weights(tmp / "autoencoder.weights.h5")
            (tmp / "refae.json").write_text(
                json.dumps({**self._state(), "seed": self.seed}, indent=2)
            )
        return path

    @classmethod
    def load(cls, path: str | Path, classifier, *, decoder: keras.Model | None = None) -> RefAE:
        """Load a reference autoencoder saved by :meth:`save` (pass ``decoder`` if it had a custom one)."""
        classifier = _as_model(classifier)
        state, folder = _read_state(path, cls.kind, classifier)
        ref = cls(
            classifier,
            state["layer"],
            units=state["unit_indices"],
            decoder=decoder,
            loss_scale=state["loss_scale"],
            learning_rate=state["learning_rate"],
            epsilon=state["epsilon"],
        )
        ref.seed = int(state.get("seed", 0))
        autoencoder = ref.build_autoencoder(ref.seed)
        autoencoder.load_weights(folder / "autoencoder.weights.h5")
        ref._adopt(autoencoder)
        ref._restore_record(state, folder)
        return ref


@dataclass
class Explanation:
    """ClaDec's reconstructions of some images, read against RefAE's.

    Attributes
    ----------
    images : ndarray
        The originals, float32 ``(N, H, W, C)`` in [0, 1].
    refae : ndarray or None
        RefAE's reconstructions, or ``None`` when no RefAE was given.
    reconstructions : dict
        ``{key: float32 (N, H, W, C)}``: ClaDec's, per alpha (or subset label).
    """

    images: np.ndarray
    refae: np.ndarray | None
    reconstructions: dict

    @property
    def differences(self) -> dict:
        """``{key: ClaDec - RefAE}``, float32 in [-1, 1]: red where ClaDec draws brighter."""
        if self.refae is None:
            raise ValueError("differences need a RefAE: pass refae= to explain()")
        return {key: rec - self.refae for key, rec in self.reconstructions.items()}

    def rows(self) -> dict:
        """``{"RefAE": ..., key: ...}``: what a reconstruction grid shows, top to bottom."""
        rows = {"RefAE": self.refae} if self.refae is not None else {}
        return {**rows, **self.reconstructions}


def explain(explainers, refae: RefAE | None, x, *, batch_size: int = 512) -> Explanation:
    """Reconstruct images with ClaDec (one or several) and RefAE, and their differences.

    Parameters
    ----------
    explainers : ClaDec, mapping or sequence of ClaDec
        Fitted explainers; a mapping keeps its keys (alphas, subset labels), a
        sequence or a single one is keyed by alpha.
    refae : RefAE or None
        The fitted reference autoencoder of the same layer.
    x : ndarray
        uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` images in [0, 1].
    batch_size : int
        Images per forward pass.

    Returns
    -------
    Explanation
        Originals, RefAE's and ClaDec's reconstructions, and ``differences``.
    """
    if isinstance(explainers, ClaDec):
        explainers = {explainers.alpha: explainers}
    elif not isinstance(explainers, Mapping):
        explainers = {e.alpha: e for e in explainers}
    if not explainers:
        raise ValueError("explain() needs at least one fitted ClaDec")
    first = next(iter(explainers.values()))
    images = as_images(x, first.image_shape)
    reconstructions = {
        key: e.reconstruct(images, batch_size=batch_size) for key, e in explainers.items()
    }
    rebuilt = refae.reconstruct(images, batch_size=batch_size) if refae is not None else None
    return Explanation(images, rebuilt, reconstructions)


def _sweep_inputs(classifier, first: ClaDec, x, y, needs_labels: bool):
    images = as_images(x, first.image_shape)
    num_classes = int(classifier.output_shape[-1])
    if y is not None:
        return images, as_labels(y, len(images), num_classes)
    if needs_labels:
        raise ValueError("y (class labels) is needed to train ClaDec with alpha > 0")
    return images, None


def _validation_codes(first: ClaDec, classifier, validation_data, needs_labels: bool):
    if validation_data is None:
        return None
    val_x, val_y = (
        validation_data if isinstance(validation_data, tuple) else (validation_data, None)
    )
    images, labels = _sweep_inputs(classifier, first, val_x, val_y, needs_labels)
    return first.layer_codes(images), images, labels


def fit_alpha_sweep(
    classifier,
    layer: str | int,
    alphas: Sequence[float],
    x,
    y=None,
    *,
    explainers: Sequence[ClaDec] | None = None,
    epochs: int = _REFERENCE["epochs"],
    batch_size: int = _REFERENCE["batch_size"],
    seed: int = 0,
    validation_data=None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    cache=True,
    verbose: int = 1,
    context: Mapping | None = None,
    **explainer_kwargs,
) -> dict[float, ClaDec]:
    """Train one ClaDec decoder per alpha in a single pass over the data.

    The layer codes are computed once; every batch then goes through all the
    decoders at once, and the frozen classifier scores all their
    reconstructions in one call. Each decoder starts from the weights and sees
    the batches it would see alone, so it ends as if trained alone.

    Parameters
    ----------
    classifier, layer
        As for :class:`ClaDec`.
    alphas : sequence of float
        Values in [0, 1]; duplicates are trained once.
    x, y
        Training images and labels, as for :meth:`ClaDec.fit`.
    explainers : sequence of ClaDec or None
        Unfitted explainers to fit (one per alpha); default: built from
        ``explainer_kwargs`` (``units``, ``top_k``, ``loss_scale``, ...).
    epochs, batch_size, seed, validation_data, callbacks, cache, verbose, context
        As for :meth:`ClaDec.fit`. Stored alphas are loaded; only the others train.
    **explainer_kwargs
        Passed to :class:`ClaDec` when ``explainers`` is not given.

    Returns
    -------
    dict
        ``{alpha: fitted ClaDec}`` in the order of ``alphas``.
    """
    classifier = _as_model(classifier)
    if explainers is None:
        unique = list(dict.fromkeys(check_alpha(a) for a in alphas))
        explainers = [ClaDec(classifier, layer, alpha=a, **explainer_kwargs) for a in unique]
    explainers = list(explainers)
    if not explainers:
        raise ValueError("alphas is empty: give at least one alpha in [0, 1]")
    first = explainers[0]
    needs_labels = any(e.alpha > 0 for e in explainers)
    images, labels = _sweep_inputs(classifier, first, x, y, needs_labels)
    if needs_labels:
        _check_probabilities(classifier, images[:64])
    codes = first.layer_codes(images)
    for e in explainers:
        if e.unit_indices is None:
            e.unit_indices = resolve_units(None, e._top_k, e.code_size, codes)
    validation = _validation_codes(first, classifier, validation_data, needs_labels)
    run = _Sweep(
        classifier,
        codes,
        images,
        labels,
        validation,
        epochs,
        batch_size,
        seed,
        callbacks,
        reporter(verbose),
    )
    data_hash = array_digest(images, labels if needs_labels else None)
    # Explainers with different subsets read different inputs; one pass per subset.
    groups: dict[bytes, list[ClaDec]] = {}
    for e in explainers:
        groups.setdefault(e.unit_indices.tobytes(), []).append(e)
    for group in groups.values():
        initial = {id(e): e.build_decoder(seed) for e in group}
        requests = [
            ModelRequest(
                e.key_fields(epochs, batch_size, seed, data_hash, initial[id(e)]),
                lambda e=e: e.build_decoder(seed),
                e._label(context, "ClaDec decoder"),
            )
            for e in group
        ]
        by_request = {id(r): e for r, e in zip(requests, group)}
        results = obtain(
            False if callbacks else cache,
            requests,
            lambda missing, by_request=by_request, initial=initial: run.train(
                [by_request[id(r)] for r in missing], initial
            ),
            log=run.log,
        )
        for e, (decoder, record) in zip(group, results):
            e.decoder, e.record = decoder, record
    by_alpha = {e.alpha: e for e in explainers}
    return {check_alpha(a): by_alpha[check_alpha(a)] for a in alphas} if alphas else by_alpha


@dataclass
class _Sweep:
    """The data and settings one sweep's decoders train with."""

    classifier: keras.Model
    codes: np.ndarray
    images: np.ndarray
    labels: np.ndarray | None
    validation: tuple | None
    epochs: int
    batch_size: int
    seed: int
    callbacks: Sequence
    log: object

    def train(self, members: list[ClaDec], initial: dict) -> list[Trained]:
        first, units = members[0], members[0].unit_indices
        if self.log:
            alphas = ", ".join(f"{e.alpha:g}" for e in members)
            self.log(
                f"  ClaDec {first.layer_name} ({first.describe_units()}): training alpha {alphas} "
                f"together, {self.epochs} epochs on {len(self.images)} images"
            )
        decoders = [initial[id(e)] for e in members]
        validation = None
        if self.validation is not None:
            v_codes, v_images, v_labels = self.validation
            validation = (v_codes[:, units], v_images, v_labels)
        histories = fit_reconstructors(
            decoders,
            self.codes[:, units],
            self.images,
            self.labels,
            alphas=[e.alpha for e in members],
            classifier=self.classifier,
            loss_scale=first.loss_scale,
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


def _check_probabilities(classifier: keras.Model, sample: np.ndarray) -> None:
    """Refuse a classifier whose output is not a vector of class probabilities."""
    shape = classifier.output_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or (shape[-1] or 0) < 2:
        raise ValueError(
            f"ClaDec with alpha > 0 needs a classifier with one output of shape (N, K) class "
            f"probabilities, K >= 2; {classifier.name!r} outputs {shape}"
        )
    probs = predict_batched(classifier, sample)
    if probs.min() < -1e-6 or probs.max() > 1 + 1e-6:
        raise ValueError(
            f"ClaDec with alpha > 0 needs class probabilities (a softmax or sigmoid output); "
            f"{classifier.name!r} outputs values in [{probs.min():.3g}, {probs.max():.3g}] "
            "(logits?). Add a softmax layer on top of the classifier."
        )

"""ClaDec and the reference autoencoder (RefAE): fit, reconstruct, save, load.

:class:`ClaDec` explains one layer of a trained classifier: the classifier up
to that layer is a frozen encoder, and a decoder learns to rebuild the input
from the layer's (flattened) activations with the loss of eq. 1. :class:`RefAE`
has the same encoder and decoder architecture, starts from fresh weights and
trains everything with the reconstruction loss only. The explanation is the
difference between what the two rebuild.

:func:`fit_alpha_sweep` trains the decoders of many alphas in one pass.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from . import architectures
from ._atomic import atomic_dir, sha256_bytes
from ._inputs import as_images, as_labels, check_alpha
from .losses import check_loss_scale
from .store import as_store, fingerprint_model, training_time_text
from .training import predict_batched, recalibrate_batchnorm, seed_everything, train_reconstructors

__all__ = ["ClaDec", "RefAE", "fit_alpha_sweep", "resolve_units"]

_REFERENCE = {"epochs": 10, "batch_size": 32, "learning_rate": 5e-3, "epsilon": 1e-4}


def resolve_units(units, top_k: int | None, n: int, codes: np.ndarray | None = None) -> np.ndarray:
    """Turn a neuron-subset request into sorted unit indices of a layer with ``n`` units.

    Parameters
    ----------
    units : None, float or sequence of int
        ``None``: every unit. A float ``p`` in (0, 1]: the first ``int(n * p)``
        units (the reference's prefix rule). A sequence: those unit indices.
    top_k : int or None
        Instead of ``units``: the ``k`` units with the largest mean activation
        over ``codes``.
    n : int
        Number of units in the (flattened) layer.
    codes : ndarray or None
        ``(N, n)`` activations, needed for ``top_k``.

    Returns
    -------
    ndarray
        int64 unit indices, sorted, unique, non-empty.
    """
    if units is not None and top_k is not None:
        raise ValueError("give either units (a fraction or indices) or top_k, not both")
    if top_k is not None:
        if (
            isinstance(top_k, bool)
            or not isinstance(top_k, (int, np.integer))
            or not 1 <= top_k <= n
        ):
            raise ValueError(
                f"top_k must be an integer in 1..{n} (the layer's units); got {top_k!r}"
            )
        if codes is None:
            raise ValueError("top_k needs the layer activations: call fit() first")
        order = np.argsort(-codes.mean(axis=0), kind="stable")
        return np.sort(order[: int(top_k)]).astype(np.int64)
    if units is None:
        return np.arange(n, dtype=np.int64)
    if isinstance(units, (float, np.floating)):
        if not 0.0 < units <= 1.0:
            raise ValueError(f"a fraction of units must be in (0, 1]; got {units!r}")
        k = int(n * float(units))
        if k == 0:
            raise ValueError(
                f"units={units!r} keeps int({n} * {units}) = 0 of {n} units: the subset is empty"
            )
        return np.arange(k, dtype=np.int64)
    if isinstance(units, (int, np.integer, bool, str)):
        raise ValueError(
            f"units must be a fraction in (0, 1] (e.g. 0.5), a list of unit indices (e.g. [0, 3, 7]) "
            f"or None; got {units!r} (for the k most active units pass top_k={units!r})"
        )
    arr = np.asarray(list(units))
    if arr.size == 0:
        raise ValueError("units is an empty list: a subset needs at least one unit")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"unit indices must be integers; got {arr.dtype} values")
    bad = arr[(arr < 0) | (arr >= n)]
    if bad.size:
        raise ValueError(
            f"unit indices {bad.tolist()[:10]} are out of range for a layer of {n} units (0..{n - 1})"
        )
    if np.unique(arr).size != arr.size:
        raise ValueError("unit indices must not repeat")
    return np.sort(arr).astype(np.int64)


@keras.saving.register_keras_serializable(package="cladec")
class SelectUnits(keras.layers.Layer):
    """Keep the given units of a flat code: ``(B, n) -> (B, len(indices))``."""

    def __init__(self, indices, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]

    def call(self, inputs):
        return keras.ops.take(inputs, self.indices, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.indices))

    def get_config(self):
        return {**super().get_config(), "indices": self.indices}


class _LayerExplainer:
    """What ClaDec and RefAE share: the layer, its code, the subset, the decoder."""

    _kind = "explainer"

    def __init__(
        self,
        classifier: keras.Model,
        layer: str | int,
        *,
        units=None,
        top_k: int | None = None,
        decoder: keras.Model | None = None,
        loss_scale: str = "sse",
        learning_rate: float = _REFERENCE["learning_rate"],
        epsilon: float = _REFERENCE["epsilon"],
    ):
        if not isinstance(classifier, keras.Model):
            raise ValueError(f"classifier must be a keras.Model; got {type(classifier).__name__}")
        self.classifier = classifier
        self.layer = architectures.resolve_layer(classifier, layer)
        self.layer_name = self.layer.name
        self.image_shape = tuple(int(s) for s in classifier.input_shape[1:])
        if len(self.image_shape) != 3:
            raise ValueError(
                f"classifier input must be images (H, W, C); got input shape {classifier.input_shape}"
            )
        out_shape = tuple(self.layer.output.shape[1:])
        self.layer_shape = out_shape
        self.code_size = int(math.prod(out_shape))
        self.loss_scale = check_loss_scale(loss_scale)
        self.learning_rate, self.epsilon = float(learning_rate), float(epsilon)
        self._units_request, self._top_k = units, top_k
        # Fractions and index lists are checked now; top-k waits for data.
        self.unit_indices = (
            None if top_k is not None else resolve_units(units, None, self.code_size)
        )
        if top_k is not None:  # check the request now; the units are picked in fit()
            resolve_units(units, top_k, self.code_size, np.zeros((1, self.code_size)))
        self._custom_decoder = decoder
        self.decoder: keras.Model | None = None
        self.history: dict = {}
        self.from_cache = False
        self.train_seconds = 0.0
        self.classifier_kind = architectures.classifier_kind(classifier)

    # -- codes and decoders ------------------------------------------------
    @property
    def n_units(self) -> int:
        """Number of units the decoder reads (the subset size)."""
        if self.unit_indices is None:
            return int(self._top_k)
        return int(self.unit_indices.size)

    def _encoder(self) -> keras.Model:
        if not hasattr(self, "_encoder_model"):
            self._encoder_model = keras.Model(
                self.classifier.input, self.layer.output, name=f"encoder_{self.layer_name}"
            )
        return self._encoder_model

    def layer_codes(self, x) -> np.ndarray:
        """Return the explained layer's activations, flattened: float32 ``(N, n)``.

        The classifier runs in inference mode (no dropout, BatchNorm running statistics).
        """
        images = as_images(x, self.image_shape)
        codes = predict_batched(self._encoder(), images)
        return codes.reshape(codes.shape[0], -1).astype(np.float32)

    def _new_decoder(self, seed: int) -> keras.Model:
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
            "classifier": fingerprint_model(self.classifier),
            "layer": self.layer_name,
            "units": sha256_bytes(np.asarray(self.unit_indices, np.int64).tobytes())[:16],
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

    def _describe_units(self) -> str:
        if self.n_units == self.code_size:
            return f"all {self.code_size} units"
        return f"{self.n_units} of {self.code_size} units"

    def __repr__(self) -> str:
        state = "fitted" if self.decoder is not None else "not fitted"
        return (
            f"{type(self).__name__}(classifier={self.classifier.name!r}, layer={self.layer_name!r}, "
            f"{self._repr_extra()}units={self._describe_units()}, {state})"
        )

    def _repr_extra(self) -> str:
        return ""


def _data_hash(*arrays) -> str:
    import hashlib

    digest = hashlib.sha256()
    for arr in arrays:
        if arr is not None:
            arr = np.ascontiguousarray(arr)
            digest.update(str((arr.shape, arr.dtype.str)).encode())
            digest.update(arr.tobytes())
    return digest.hexdigest()


def _log_for(verbose: int):
    return (lambda message: print(message, flush=True)) if verbose else None


class ClaDec(_LayerExplainer):
    """Explain a layer of a classifier by decoding its activations (eq. 1).

    Parameters
    ----------
    classifier : keras.Model
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

    _kind = "cladec"

    def __init__(self, classifier: keras.Model, layer: str | int, alpha: float = 0.0, **kwargs):
        super().__init__(classifier, layer, **kwargs)
        self.alpha = check_alpha(alpha)

    def _repr_extra(self) -> str:
        return f"alpha={self.alpha:g}, "

    def fit(
        self,
        x,
        y=None,
        *,
        epochs: int = _REFERENCE["epochs"],
        batch_size: int = _REFERENCE["batch_size"],
        seed: int = 0,
        cache=True,
        verbose: int = 1,
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
        cache : bool or ModelStore
            Reuse a decoder trained before with identical settings, and store
            a new one (``True``: the store under ``CLADEC_HOME``).
        verbose : int
            1 prints one line per epoch; 0 is silent.

        Returns
        -------
        ClaDec
            ``self``, fitted; ``from_cache`` tells whether training was skipped.
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
            cache=cache,
            verbose=verbose,
        )
        return self

    def reconstruct(self, x, *, batch_size: int = 512) -> np.ndarray:
        """Rebuild images from the layer's activations: float32 ``(N, 28, 28, 1)`` in [0, 1]."""
        self._check_fitted()
        codes = self.layer_codes(x)[:, self.unit_indices]
        return predict_batched(self.decoder, codes, batch_size).astype(np.float32)

    def _fields(self, epochs, batch_size, seed, data_hash, decoder) -> dict:
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
            (tmp / "cladec.json").write_text(json.dumps(self._state(), indent=2))
        return path

    def _state(self) -> dict:
        return {
            "kind": self._kind,
            "layer": self.layer_name,
            "alpha": getattr(self, "alpha", 0.0),
            "unit_indices": self.unit_indices.tolist(),
            "loss_scale": self.loss_scale,
            "learning_rate": self.learning_rate,
            "epsilon": self.epsilon,
            "classifier_fingerprint": fingerprint_model(self.classifier),
            "history": self.history,
        }

    @classmethod
    def load(cls, path: str | Path, classifier: keras.Model) -> ClaDec:
        """Load an explainer saved by :meth:`save`, for the same trained ``classifier``."""
        state, folder = _read_state(path, cls._kind, classifier)
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
        explainer.history = state.get("history", {})
        return explainer


def _read_state(path, kind: str, classifier) -> tuple[dict, Path]:
    folder = Path(path)
    meta = folder / f"{kind}.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{folder} is not a saved {kind} explainer: {meta.name} is missing")
    state = json.loads(meta.read_text())
    if state.get("classifier_fingerprint") != fingerprint_model(classifier):
        import warnings

        warnings.warn(
            f"the classifier passed to load() differs from the one the explainer in {folder} "
            "was trained with; its reconstructions may not explain this classifier",
            RuntimeWarning,
            stacklevel=3,
        )
    return state, folder


class RefAE(_LayerExplainer):
    """The reference autoencoder: the classifier's architecture up to ``layer``, fresh weights.

    Encoder (same layers as the classifier up to ``layer``, newly initialised)
    and decoder (as :class:`ClaDec` would use) are trained together with the
    reconstruction loss only. It shows what a code of the same size *could*
    keep; ClaDec shows what the classifier's layer *does* keep.

    Parameters are those of :class:`ClaDec`, without ``alpha``.
    """

    _kind = "refae"

    def _build_autoencoder(self, seed: int) -> keras.Model:
        seed_everything(seed)
        fresh = keras.models.clone_model(self.classifier)
        fresh_layer = fresh.get_layer(self.layer_name)
        encoder = keras.Model(
            fresh.input, fresh_layer.output, name=f"refae_encoder_{self.layer_name}"
        )
        decoder = self._new_decoder(seed + 1)
        inputs = keras.Input(self.image_shape, name="image")
        code = keras.layers.Flatten(name="code")(encoder(inputs))
        if self.n_units != self.code_size:
            code = SelectUnits(self.unit_indices, name="units")(code)
        outputs = decoder(code)
        model = keras.Model(inputs, outputs, name=f"refae_{self.layer_name}")
        model._cladec_parts = (encoder, decoder)
        return model

    def fit(
        self,
        x,
        y=None,
        *,
        epochs: int = _REFERENCE["epochs"],
        batch_size: int = _REFERENCE["batch_size"],
        seed: int = 0,
        cache=True,
        verbose: int = 1,
    ) -> RefAE:
        """Train encoder and decoder on images ``x`` (labels are not used; ``y`` only picks top-k units).

        Parameters are those of :meth:`ClaDec.fit`.
        """
        images = as_images(x, self.image_shape)
        if self.unit_indices is None:  # top-k units of the *classifier's* layer
            self.unit_indices = resolve_units(
                None, self._top_k, self.code_size, self.layer_codes(images)
            )
        store = as_store(cache)
        self._seed = int(seed)
        autoencoder = self._build_autoencoder(seed)
        fields = {
            "kind": "refae",
            "recalibrate_batchnorm": True,
            "init": fingerprint_model(autoencoder),
            **self._common_fields(epochs, batch_size, seed, _data_hash(images)),
        }
        log = _log_for(verbose)
        hit = store.load(fields, lambda: self._build_autoencoder(seed)) if store else None
        if hit is not None:
            autoencoder, meta = hit
            self.history, self.train_seconds, self.from_cache = meta["metrics"], 0.0, True
            if log:
                log(
                    f"  RefAE {self.layer_name}: loaded from the model cache (trained in {meta['train_seconds']:.0f} s)"
                )
        else:
            if log:
                log(
                    f"  RefAE {self.layer_name} ({self._describe_units()}): training {epochs} epochs on {len(images)} images"
                )
            start = time.perf_counter()
            [self.history] = train_reconstructors(
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
                log=log,
                labels=["RefAE"],
            )
            # The fresh encoder's BatchNorm statistics lag behind its weights
            # (as for the classifiers); without this its inference-mode
            # reconstructions are far worse than during training.
            recalibrate_batchnorm(autoencoder, images)
            self.train_seconds, self.from_cache = time.perf_counter() - start, False
            if store:
                store.save(
                    fields, autoencoder, train_seconds=self.train_seconds, metrics=self.history
                )
        self.autoencoder = autoencoder
        self.encoder, self.decoder = autoencoder._cladec_parts
        return self

    def reconstruct(self, x, *, batch_size: int = 512) -> np.ndarray:
        """Rebuild images through the reference autoencoder: float32 ``(N, 28, 28, 1)`` in [0, 1]."""
        self._check_fitted()
        return predict_batched(self.autoencoder, as_images(x, self.image_shape), batch_size).astype(
            np.float32
        )

    def save(self, path: str | Path) -> Path:
        """Save the autoencoder's weights and settings (``refae.json``) in folder ``path``."""
        self._check_fitted()
        path = Path(path)
        with atomic_dir(path) as tmp:
            self.autoencoder.save_weights(tmp / "autoencoder.weights.h5")
            state = ClaDec._state(self)
            state["seed"] = getattr(self, "_seed", 0)
            (tmp / "refae.json").write_text(json.dumps(state, indent=2))
        return path

    @classmethod
    def load(
        cls, path: str | Path, classifier: keras.Model, *, decoder: keras.Model | None = None
    ) -> RefAE:
        """Load a reference autoencoder saved by :meth:`save` (pass ``decoder`` if it had a custom one)."""
        state, folder = _read_state(path, cls._kind, classifier)
        ref = cls(
            classifier,
            state["layer"],
            units=state["unit_indices"],
            decoder=decoder,
            loss_scale=state["loss_scale"],
            learning_rate=state["learning_rate"],
            epsilon=state["epsilon"],
        )
        ref.autoencoder = ref._build_autoencoder(state.get("seed", 0))
        ref.autoencoder.load_weights(folder / "autoencoder.weights.h5")
        ref.encoder, ref.decoder = ref.autoencoder._cladec_parts
        ref.history = state.get("history", {})
        return ref


def fit_alpha_sweep(
    classifier: keras.Model,
    layer: str | int,
    alphas: Sequence[float],
    x,
    y=None,
    *,
    explainers: Sequence[ClaDec] | None = None,
    epochs: int = _REFERENCE["epochs"],
    batch_size: int = _REFERENCE["batch_size"],
    seed: int = 0,
    cache=True,
    verbose: int = 1,
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
    epochs, batch_size, seed, cache, verbose
        As for :meth:`ClaDec.fit`. Cached alphas are loaded; only the others train.

    Returns
    -------
    dict
        ``{alpha: fitted ClaDec}`` in the order of ``alphas``.
    """
    if explainers is None:
        unique = list(dict.fromkeys(check_alpha(a) for a in alphas))
        explainers = [ClaDec(classifier, layer, alpha=a, **explainer_kwargs) for a in unique]
    explainers = list(explainers)
    if not explainers:
        raise ValueError("alphas is empty: give at least one alpha in [0, 1]")
    first = explainers[0]
    images = as_images(x, first.image_shape)
    num_classes = int(classifier.output_shape[-1])
    needs_labels = any(e.alpha > 0 for e in explainers)
    labels = None
    if y is not None:
        labels = as_labels(y, len(images), num_classes)
    elif needs_labels:
        raise ValueError("y (class labels) is needed to train ClaDec with alpha > 0")
    if needs_labels:
        _check_probabilities(classifier, images[:64])

    codes = first.layer_codes(images)
    for e in explainers:
        if e.unit_indices is None:
            e.unit_indices = resolve_units(None, e._top_k, e.code_size, codes)
    data_hash = _data_hash(images, labels if needs_labels else None)
    store = as_store(cache)
    log = _log_for(verbose)

    pending = []
    for e in explainers:
        decoder = e._new_decoder(seed)
        fields = e._fields(epochs, batch_size, seed, data_hash, decoder)
        hit = store.load(fields, lambda e=e: e._new_decoder(seed)) if store else None
        if hit is not None:
            e.decoder, meta = hit
            e.history, e.train_seconds, e.from_cache = meta["metrics"], 0.0, True
            if log:
                log(
                    f"  ClaDec {e.layer_name} alpha={e.alpha:g}: loaded from the model cache "
                    f"(trained in {training_time_text(meta)})"
                )
        else:
            pending.append((e, decoder, fields))

    # Explainers with different subsets read different inputs; group by subset.
    groups: dict[bytes, list] = {}
    for item in pending:
        groups.setdefault(item[0].unit_indices.tobytes(), []).append(item)
    for group in groups.values():
        members = [e for e, _, _ in group]
        decoders = [d for _, d, _ in group]
        if log:
            alphas_text = ", ".join(f"{e.alpha:g}" for e in members)
            log(
                f"  ClaDec {first.layer_name} ({members[0]._describe_units()}): training alpha "
                f"{alphas_text} together, {epochs} epochs on {len(images)} images"
            )
        start = time.perf_counter()
        results = train_reconstructors(
            decoders,
            codes[:, members[0].unit_indices],
            images,
            labels,
            alphas=[e.alpha for e in members],
            classifier=classifier,
            loss_scale=first.loss_scale,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=first.learning_rate,
            epsilon=first.epsilon,
            seed=seed,
            log=log,
            labels=[f"a={e.alpha:g}" for e in members],
        )
        seconds = time.perf_counter() - start
        for (e, decoder, fields), result in zip(group, results):
            e.decoder, e.history, e.from_cache = decoder, result, False
            e.train_seconds = seconds / len(group)
            if store:
                store.save(
                    fields,
                    decoder,
                    train_seconds=e.train_seconds,
                    metrics=result,
                    sweep_size=len(group),
                )
    by_alpha = {e.alpha: e for e in explainers}
    return {check_alpha(a): by_alpha[check_alpha(a)] for a in alphas} if alphas else by_alpha


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

"""The reference autoencoder (RefAE): the baseline ClaDec's reconstructions are read against.

:class:`RefAE` has the same encoder and decoder architecture as
:class:`cladec.ClaDec`, starts from fresh weights and trains everything with
the reconstruction loss only: what a code trained to rebuild images keeps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ._atomic import array_digest, atomic_dir
from ._inputs import as_images
from ._layer_explainer import _REFERENCE, LayerExplainer, as_model, read_state
from ._logging import reporter
from ._ownership import saved_folder
from .reconstructors import fit_reconstructors
from .store import ModelRequest, Trained, obtain
from .store.keys import architecture_digest, fingerprint_model
from .training import predict_batched, recalibrate_batchnorm, seed_everything
from .units import SelectUnits, resolve_units

__all__ = ["RefAE"]

# What save() may replace: only a folder that an earlier save() wrote.
SAVED_REFAE = saved_folder(
    "a folder saved by RefAE.save", {"autoencoder.weights.h5", "refae.json"}, "refae.json"
)


def _synchronised_batchnorm(layer):
    """Clone a layer; BatchNormalization computes its statistics over all replicas' batches."""
    config = layer.get_config()
    if isinstance(layer, keras.layers.BatchNormalization):
        config["synchronized"] = True
    return layer.__class__.from_config(config)


class RefAE(LayerExplainer):
    """The reference autoencoder: the classifier's architecture up to ``layer``, fresh weights.

    Encoder (same layers as the classifier up to ``layer``, newly initialised)
    and decoder (as :class:`ClaDec` would use) are trained together with the
    reconstruction loss only. It is one trained network with one budget, the
    baseline ClaDec is read against: what a code of the same size kept when it
    was trained to rebuild the image rather than to classify it.

    Parameters
    ----------
    classifier : keras.Model or TrainedClassifier
        The trained classifier whose architecture up to ``layer`` is copied
        (with fresh weights); the classifier itself is never modified.
    layer : str or int
        The layer whose output is the code, by name or index.
    **kwargs
        Keyword-only settings as for :class:`ClaDec`: ``units``, ``top_k``
        (the most active units of the *classifier's* layer), ``decoder``,
        ``loss_scale``, ``loss`` (its reconstruction term is the one used),
        ``learning_rate``, ``epsilon``.
    """

    kind = "refae"

    def __init__(self, classifier, layer: str | int, **kwargs):
        super().__init__(classifier, layer, **kwargs)
        self.autoencoder: keras.Model | None = None
        self.encoder: keras.Model | None = None
        self.seed = 0

    def build_autoencoder(self, seed: int) -> keras.Model:
        """A fresh encoder (the classifier's layers up to ``layer``) and decoder, as one model.

        Parameters
        ----------
        seed : int
            Seeds the encoder's initial weights; the decoder is built with
            ``seed + 1`` (:meth:`build_decoder`).

        Returns
        -------
        keras.Model
            Maps float32 ``(N, H, W, C)`` images in [0, 1] to their
            reconstructions, float32 ``(N, H, W, C)`` in [0, 1]: encoder,
            flattening, the unit subset (when not every unit), decoder.
        """
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

    def adopt(self, autoencoder: keras.Model) -> None:
        """Use ``autoencoder`` (built by :meth:`build_autoencoder`, weights loaded) as this RefAE.

        Parameters
        ----------
        autoencoder : keras.Model
            The trained or loaded autoencoder; its encoder and decoder become
            ``encoder`` and ``decoder``.
        """
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
        """Train encoder and decoder on images ``x`` with the reconstruction loss only.

        Parameters
        ----------
        x : ndarray
            Training images of the classifier's input shape: uint8
            ``(N, H, W)`` or ``(N, H, W, C)``, or float ``(N, H, W, C)`` in [0, 1].
            With ``top_k``, the units are picked from the classifier's
            activations on these images.
        y : ndarray or None
            Not used: RefAE trains without labels.
        epochs, batch_size : int
            Reference: 10 and 32.
        seed : int
            Seeds the initial weights (encoder ``seed``, decoder ``seed + 1``)
            and the batch order.
        validation_data : ndarray, tuple or None
            Images, or a tuple whose first item is the images (the rest is
            ignored), reconstructed and scored after every epoch when the
            model trains now.
        callbacks : sequence of keras.callbacks.Callback
            Passed to ``keras.Model.fit``; a fit with callbacks neither reads
            nor writes the cache.
        cache : bool or ModelStore
            Reuse an autoencoder trained before with identical settings (the
            user's cache, then the shipped models), and store a new one.
        verbose : int
            1 prints one line per epoch; 0 is silent.
        context : mapping or None
            ``dataset`` and ``profile`` names for the log lines and errors.

        Returns
        -------
        RefAE
            ``self``, fitted; ``record`` says where the autoencoder came from,
            ``history`` holds every epoch's losses.
        """
        images = as_images(x, self.image_shape)
        if self.unit_indices is None:  # top-k units of the *classifier's* layer
            self.unit_indices = resolve_units(
                None, self.top_k, self.code_size, self.layer_codes(images)
            )
        self.seed = int(seed)
        fresh = self.build_autoencoder(
            seed
        )  # its initial weights key the store; it trains on a miss
        fields = {
            "kind": "refae",
            "recalibrate_batchnorm": True,
            "init": fingerprint_model(fresh),
            "layers": architecture_digest(fresh),
            **self._common_fields(epochs, batch_size, seed, array_digest(images)),
        }
        log = reporter(verbose)
        label = self.label(context, "RefAE")
        val_images = None
        if validation_data is not None:
            val_x = validation_data[0] if isinstance(validation_data, tuple) else validation_data
            val_images = as_images(val_x, self.image_shape, name="validation images")

        def train(_requests):
            if log:
                log(f"{label}: training {epochs} epochs on {len(images)} images")
            autoencoder = fresh
            [history] = fit_reconstructors(
                [autoencoder],
                images,
                images,
                None,
                alphas=[0.0],
                loss_scale=self.loss_scale,
                loss=self.loss,
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

        request = ModelRequest(
            fields, lambda: self.build_autoencoder(seed), label, self.store_context(context)
        )
        [(autoencoder, self.record)] = obtain(
            False if callbacks else cache, [request], train, log=log
        )
        self.adopt(autoencoder)
        return self

    def reconstruct(self, x, *, batch_size: int = 512) -> np.ndarray:
        """Rebuild images through the reference autoencoder: float32 ``(N, H, W, C)`` in [0, 1].

        Parameters
        ----------
        x : ndarray
            Images of the classifier's input shape, as for :meth:`layer_codes`.
        batch_size : int
            Images per autoencoder call.

        Returns
        -------
        ndarray
            float32 ``(N, H, W, C)`` in [0, 1], the classifier's image shape.

        Raises
        ------
        RuntimeError
            If the autoencoder is not fitted (nor loaded) yet.
        """
        self._check_fitted()
        images = as_images(x, self.image_shape)
        return predict_batched(self.autoencoder, images, batch_size).astype(np.float32, copy=False)

    def save(self, path: str | Path) -> Path:
        """Save the autoencoder's weights and settings (``refae.json``) in folder ``path``.

        Parameters
        ----------
        path : str or Path
            The folder, written atomically. An existing folder is replaced only
            when it is empty or holds a RefAE saved here before; any other is
            kept and :class:`cladec.FolderNotOwned` is raised.

        Returns
        -------
        Path
            ``path``.
        """
        self._check_fitted()
        path = Path(path)
        with atomic_dir(path, replaces=SAVED_REFAE) as tmp:
            self.autoencoder.save_weights(tmp / "autoencoder.weights.h5")
            (tmp / "refae.json").write_text(
                json.dumps({**self._state(), "seed": self.seed}, indent=2)
            )
        return path

    @classmethod
    def load(cls, path: str | Path, classifier, *, decoder: keras.Model | None = None) -> RefAE:
        """Load a reference autoencoder saved by :meth:`save` (pass ``decoder`` if it had a custom one).

        Parameters
        ----------
        path : str or Path
            The folder :meth:`save` wrote.
        classifier : keras.Model or TrainedClassifier
            The classifier the autoencoder was built from; another one (by
            weights fingerprint) gives a ``RuntimeWarning``.
        decoder : keras.Model or None
            The custom decoder it was trained with, if any: only the weights
            are saved, so the architecture must be rebuilt.

        Returns
        -------
        RefAE
            Fitted: the saved weights, seed, units and settings, and a
            ``record`` with the saved history.
        """
        classifier = as_model(classifier)
        state, folder = read_state(path, cls.kind, classifier)
        ref = cls(
            classifier,
            state["layer"],
            units=state["unit_indices"],
            decoder=decoder,
            loss_scale=state["loss_scale"],
            loss=state.get("loss", "eq1"),  # saved before 0.2: the reference's loss
            learning_rate=state["learning_rate"],
            epsilon=state["epsilon"],
        )
        ref.seed = int(state.get("seed", 0))
        autoencoder = ref.build_autoencoder(ref.seed)
        autoencoder.load_weights(folder / "autoencoder.weights.h5")
        ref.adopt(autoencoder)
        ref._restore_record(state, folder)
        return ref

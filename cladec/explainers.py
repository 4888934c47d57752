"""ClaDec: fit, reconstruct, save, load; and alpha sweeps.

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
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np

from ._atomic import atomic_dir
from ._inputs import check_alpha, check_target
from ._layer_explainer import _REFERENCE, RECIPE, LayerExplainer, as_model, read_state
from ._ownership import saved_folder
from .exceptions import InvalidInputError
from .store.keys import architecture_digest, fingerprint_model
from .sweep import fit_decoders
from .training import predict_batched

__all__ = ["ClaDec", "fit_alpha_sweep", "RECIPE"]

# What save() may replace: only a folder that an earlier save() wrote.
SAVED_CLADEC = saved_folder(
    "a folder saved by ClaDec.save", {"decoder.keras", "cladec.json"}, "cladec.json"
)


class ClaDec(LayerExplainer):
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
        decoder of the layer; towards 1: recognition by the classifier over
        likeness to the input.
    target : {"labels", "predictions"}
        The classes eq. 1's classification term asks the classifier to see
        in a reconstruction: the true labels of the training images (the
        reference, the default), or the explained classifier's own
        predictions on them, so the decoder learns to draw the classifier's
        decision, right or wrong. Only matters when alpha > 0.
    **kwargs
        Keyword-only settings, shared with :class:`RefAE`:

        units : None, float or sequence of int
            Explain a subset of the layer's neurons: a fraction ``p`` in
            (0, 1] keeps the first ``int(n * p)`` units, a sequence keeps
            those indices. Default ``None``: every unit.
        top_k : int or None
            Instead of ``units``: explain the ``k`` units with the largest
            mean activation on the training images, picked in :meth:`fit`.
        decoder : keras.Model or None
            Your own decoder, mapping ``(N, n_units)`` to ``(N, H, W, C)`` in
            [0, 1]. Default: :func:`cladec.architectures.build_decoder` for
            this layer (the reference decoder where one applies, else
            :func:`cladec.architectures.generic_decoder`).
        loss_scale : {"sse", "mse"}
            Reconstruction loss summed per image (reference, the default) or
            averaged per pixel. Alpha trades against it, so the same alpha
            means more under ``"mse"``.
        loss : str or Eq1Loss
            The terms of eq. 1 (:mod:`cladec.losses`): ``"eq1"``, the
            reference's, or a registered or given :class:`~cladec.Eq1Loss`.
            Its name enters the decoder's store key.
        learning_rate, epsilon : float
            Adam settings (reference and default: 5e-3, 1e-4).

    Examples
    --------
    >>> explainer = cladec.ClaDec(clf, layer="my_dense", alpha=0.99)  # doctest: +SKIP
    >>> explainer.fit(ds.x_train, ds.y_train, epochs=2)               # doctest: +SKIP
    >>> x_hat = explainer.reconstruct(ds.x_test[:8])                  # doctest: +SKIP
    """

    kind = "cladec"

    def __init__(
        self, classifier, layer: str | int, alpha: float = 0.0, *, target: str = "labels", **kwargs
    ):
        super().__init__(classifier, layer, **kwargs)
        self.alpha = check_alpha(alpha)
        self.target = check_target(target)

    def _repr_extra(self) -> str:
        extra = "" if self.target == "labels" else f"target={self.target!r}, "
        return f"alpha={self.alpha:g}, {extra}"

    def _label_extra(self) -> list[str]:
        return [f"alpha {self.alpha:g}"] + (
            [] if self.target == "labels" else ["target: the classifier's predictions"]
        )

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
        """Rebuild images from the layer's activations: float32 ``(N, H, W, C)`` in [0, 1].

        Parameters
        ----------
        x : ndarray
            Images of the classifier's input shape, as for :meth:`layer_codes`.
        batch_size : int
            Codes per decoder call.

        Returns
        -------
        ndarray
            float32 ``(N, H, W, C)`` in [0, 1], the classifier's image shape.

        Raises
        ------
        RuntimeError
            If the explainer is not fitted (nor loaded) yet.
        """
        self._check_fitted()
        codes = self.layer_codes(x)
        if not np.array_equal(self.unit_indices, np.arange(codes.shape[1])):
            codes = codes[:, self.unit_indices]  # a copy: skipped when every unit is read
        return predict_batched(self.decoder, codes, batch_size).astype(np.float32, copy=False)

    def key_fields(self, epochs, batch_size, seed, data_hash, decoder) -> dict:
        """The store key fields of this decoder for a training run (``decoder``: its initial state).

        Parameters
        ----------
        epochs, batch_size, seed : int
            The training settings.
        data_hash : str
            Digest of the training data, stored as the ``data`` field.
        decoder : keras.Model
            The untrained decoder; its weights' fingerprint enters the key.

        Returns
        -------
        dict
            JSON-serialisable fields: kind, alpha, the decoder's initial
            weights, and the settings shared with RefAE (recipe, classifier
            fingerprint, layer, units, loss scale, optimizer, epochs, batch
            size, seed, data).
        """
        fields = {
            "kind": "cladec",
            "alpha": self.alpha,
            "decoder_init": fingerprint_model(decoder),
            "layers": architecture_digest(decoder),
            **self._common_fields(epochs, batch_size, seed, data_hash),
        }
        if self.alpha > 0 and self.target != "labels":  # the reference target keeps earlier keys
            fields["target"] = self.target
        return fields

    def save(self, path: str | Path) -> Path:
        """Save the decoder (Keras ``.keras``) and settings (``cladec.json``) in folder ``path``.

        Parameters
        ----------
        path : str or Path
            The folder, written atomically. An existing folder is replaced only
            when it is empty or holds an explainer saved here before; any other
            is kept and :class:`cladec.FolderNotOwned` is raised.

        Returns
        -------
        Path
            ``path``.
        """
        self._check_fitted()
        path = Path(path)
        with atomic_dir(path, replaces=SAVED_CLADEC) as tmp:
            self.decoder.save(tmp / "decoder.keras")
            (tmp / "cladec.json").write_text(
                json.dumps({**self._state(), "alpha": self.alpha, "target": self.target}, indent=2)
            )
        return path

    @classmethod
    def load(cls, path: str | Path, classifier) -> ClaDec:
        """Load an explainer saved by :meth:`save`, for the same trained ``classifier``.

        Parameters
        ----------
        path : str or Path
            The folder :meth:`save` wrote.
        classifier : keras.Model or TrainedClassifier
            The classifier the explainer was trained with; another one (by
            weights fingerprint) gives a ``RuntimeWarning``.

        Returns
        -------
        ClaDec
            Fitted: the saved decoder, alpha, units and settings, and a
            ``record`` with the saved history.
        """
        classifier = as_model(classifier)
        state, folder = read_state(path, cls.kind, classifier)
        explainer = cls(
            classifier,
            state["layer"],
            alpha=state["alpha"],
            target=state.get("target", "labels"),
            units=state["unit_indices"],
            loss_scale=state["loss_scale"],
            loss=state.get("loss", "eq1"),  # saved before 0.2: the reference's loss
            learning_rate=state["learning_rate"],
            epsilon=state["epsilon"],
        )
        explainer.decoder = keras.models.load_model(folder / "decoder.keras")
        explainer._restore_record(state, folder)
        return explainer


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
    classifier = as_model(classifier)
    if explainers is None:
        unique = list(dict.fromkeys(check_alpha(a) for a in alphas))
        explainers = [ClaDec(classifier, layer, alpha=a, **explainer_kwargs) for a in unique]
    explainers = list(explainers)
    if not explainers:
        raise InvalidInputError("alphas is empty: give at least one alpha in [0, 1]")
    return fit_decoders(
        classifier,
        explainers,
        alphas,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        validation_data=validation_data,
        callbacks=callbacks,
        cache=cache,
        verbose=verbose,
        context=context,
    )

"""Scores of explanations: predicted labels, the losses of eq. 1, fidelity, evaluation accuracy.

The reference run (``method.md`` §7) scores every explainer on the test set
with the reconstruction loss (sum of squared errors per image, averaged over
the images), the classifier's cross-entropy on the reconstructions, and their
blend, the total loss of eq. 1 (:func:`loss_terms`); and with the *evaluation
accuracy*: a fresh classifier of the same architecture is trained on the
reconstructions of the training images and tested on the reconstructions of
the test images (:func:`evaluation_accuracy`). It measures how much class
information the reconstructions keep. :func:`fidelity` asks whether the
classifier reads a reconstruction as it reads the original.

Every function takes arrays (or a fitted explainer) and returns plain numbers;
result rows and tables are in :mod:`cladec.studies`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np

from ._evaluation import make_job, make_recipe, result_of, run_jobs
from ._inputs import as_images, as_labels, check_alpha, image_shape_of
from ._logging import reporter
from ._scores import _resolve_reconstructions, fidelity_from_predictions, losses_from_arrays
from .exceptions import InvalidInputError
from .losses import check_loss_scale
from .training import predict_batched

__all__ = [
    "misread_readings",
    "texture",
    "evaluation_accuracy",
    "evaluation_accuracies",
    "fidelity",
    "loss_terms",
    "predict_labels",
]


def predict_labels(classifier: keras.Model, x, *, batch_size: int = 512) -> np.ndarray:
    """Return the classes a classifier predicts for images ``x``.

    Parameters
    ----------
    classifier : keras.Model
        Maps float32 ``(N, H, W, C)`` images to ``(N, K)`` class scores.
    x : ndarray
        uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1] (any
        ``(H, W, C)`` the classifier takes).
    batch_size : int
        Images per forward pass (inference mode).

    Returns
    -------
    ndarray
        int64 ``(N,)``, the argmax of the class scores.
    """
    images = as_images(x, image_shape_of(classifier))
    return predict_batched(classifier, images, batch_size).argmax(axis=1).astype(np.int64)


def loss_terms(
    source,
    x,
    y,
    classifier: keras.Model | None = None,
    alpha: float | None = None,
    *,
    loss_scale: str | None = None,
    batch_size: int = 512,
) -> dict:
    """The three losses of eq. 1 on a test set.

    ``total = (1 - alpha) * reconstruction + alpha * classification``, where
    the reconstruction loss is the squared error per image (summed over
    pixels for ``"sse"``, the reference scale; averaged for ``"mse"``) and the
    classification loss the categorical cross-entropy of the frozen
    classifier (inference mode) on the reconstructions, both averaged over
    the images.

    Parameters
    ----------
    source : ClaDec, RefAE or ndarray
        A fitted explainer (its ``reconstruct`` is called on ``x``) or the
        reconstructions themselves, float32 ``(N, 28, 28, 1)`` in [0, 1].
    x : ndarray
        The original images, uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1].
    y : ndarray
        int ``(N,)`` class labels (or one-hot ``(N, K)``).
    classifier : keras.Model or None
        The classifier scoring the reconstructions; default: the explainer's.
    alpha : float or None
        Weight of the classification loss. Default: the explainer's
        ``alpha``. ``None`` (a RefAE, or arrays without an alpha) means no
        classification term: ``total_loss`` is the reconstruction loss, the
        convention of the reference results. The classifier's loss on the
        reconstructions is still reported.
    loss_scale : {"sse", "mse"} or None
        Default: the explainer's ``loss_scale``, else ``"sse"``.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    dict
        ``reconstruction_loss``, ``classification_loss``, ``total_loss``
        (floats), ``alpha`` (float or None), ``loss_scale`` (str),
        ``n_images`` (int).

    Examples
    --------
    >>> terms = loss_terms(explainer, ds.x_test, ds.y_test)  # doctest: +SKIP
    >>> terms["reconstruction_loss"]                          # doctest: +SKIP
    20.5
    """
    is_explainer = hasattr(source, "reconstruct")
    if is_explainer:
        classifier = classifier if classifier is not None else source.classifier
        if alpha is None:
            alpha = getattr(source, "alpha", None)
        if loss_scale is None:
            loss_scale = getattr(source, "loss_scale", "sse")
    if classifier is None:
        raise InvalidInputError(
            "loss_terms needs the classifier when given reconstructions instead of an explainer"
        )
    loss_scale = check_loss_scale(loss_scale or "sse")
    alpha = None if alpha is None else check_alpha(alpha)
    images = as_images(x, image_shape_of(classifier))
    x_hat = _resolve_reconstructions(source, images, batch_size)
    labels = as_labels(y, len(images), int(classifier.output_shape[-1]))
    probabilities = predict_batched(classifier, x_hat, batch_size)
    return losses_from_arrays(images, x_hat, probabilities, labels, alpha, loss_scale)


def fidelity(classifier: keras.Model, x, x_hat, y=None, *, batch_size: int = 512) -> dict:
    """How faithfully the classifier reads the reconstructions as it reads the originals.

    Parameters
    ----------
    classifier : keras.Model
        Maps float32 ``(N, 28, 28, 1)`` images to ``(N, K)`` class scores.
    x : ndarray
        Originals, uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` in [0, 1].
    x_hat : ndarray or explainer
        Reconstructions of ``x`` of the same shape, or a fitted explainer
        whose ``reconstruct(x)`` gives them.
    y : ndarray or None
        int ``(N,)`` labels; when given, accuracies are reported too.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    dict
        ``agreement``: fraction of images whose predicted class on ``x_hat``
        equals the one on ``x`` (float in [0, 1]);
        ``accuracy_on_reconstructions`` and ``accuracy_on_originals`` (float,
        or None without ``y``); ``n_images`` (int).
    """
    images = as_images(x, image_shape_of(classifier))
    reconstructions = _resolve_reconstructions(x_hat, images, batch_size)
    labels = None if y is None else as_labels(y, len(images), int(classifier.output_shape[-1]))
    pred_x = predict_batched(classifier, images, batch_size).argmax(axis=1)
    pred_hat = predict_batched(classifier, reconstructions, batch_size).argmax(axis=1)
    return fidelity_from_predictions(pred_x, pred_hat, labels)


# ---------------------------------------------------------------------------
# Evaluation accuracy: a fresh classifier trained on reconstructions
# ---------------------------------------------------------------------------


def evaluation_accuracy(
    x_hat_train,
    y_train,
    x_hat_test,
    y_test,
    *,
    architecture: str | Callable[[], keras.Model] = "perfect",
    epochs: int | None = None,
    batch_size: int = 32,
    seed: int = 0,
    profile=None,
    recalibrate_batchnorm: bool | None = None,
    cache=True,
    verbose: int = 1,
    label: str = "evaluation classifier",
    context: dict | None = None,
    data_id: str | None = None,
) -> dict:
    """Train a fresh classifier on reconstructions of the training images; test it on the test ones.

    The reference run's measure of how much class information reconstructions
    keep (``method.md`` §7). The classifier goes through the model store: a
    call with identical arrays and settings trains nothing and returns the
    recorded test accuracy.

    Parameters
    ----------
    x_hat_train : ndarray or callable
        Reconstructions of the training images, float32 ``(N, 28, 28, 1)``
        in [0, 1] (uint8 ``(N, 28, 28)`` originals are accepted too, as a baseline);
        or a function without arguments that returns them, called only if
        the classifier must be trained (a stored one needs no reconstructions
        of the training set). A function needs ``data_id``.
    y_train : ndarray
        int ``(N,)`` labels of the training images.
    x_hat_test : ndarray
        Reconstructions of the test images, float32 ``(M, 28, 28, 1)``.
    y_test : ndarray
        int ``(M,)`` labels of the test images.
    architecture : {"perfect", "diff"} or callable
        The classifier to train, built by :func:`cladec.build_classifier`;
        or a function returning an untrained ``keras.Model``.
    epochs : int or None
        Default: the profile's ``eval_epochs``, else the reference's 10.
    batch_size : int
        Reference: 32.
    seed : int
        Seeds the initial weights and the batch order.
    profile : str, Profile or None
        Supplies the defaults of ``epochs`` and ``recalibrate_batchnorm``;
        ``None``: the reference recipe (the environment is not read here).
    recalibrate_batchnorm : bool or None
        Re-estimate the BatchNorm statistics on the training reconstructions
        after training. Default: the profile's setting, else on.
    cache : bool or ModelStore
        ``True``: the user's cache, then the shipped models; ``False``: always train.
    verbose : int
        1 prints one line per epoch and the result; 0 is silent.
    label : str
        Names the classifier in the printed lines and errors.
    context : dict or None
        Recorded beside the weights (what produced the reconstructions).
    data_id : str or None
        Names the data in the store key instead of a hash of the arrays, e.g.
        the key of the explainer that made the reconstructions with a hash of
        the originals: reconstructions are float outputs whose last bits can
        differ between CPUs, and a hash of them would miss a shipped model on
        another machine. ``None``: hash the arrays.

    Returns
    -------
    dict
        ``accuracy`` and ``loss`` on the test reconstructions (float),
        ``train_accuracy`` (float, last epoch), ``from_cache`` (bool),
        ``train_seconds`` (float), ``epochs``, ``batch_size``, ``seed``,
        ``n_train``, ``n_test`` (int), ``recalibrate_batchnorm`` (bool),
        ``architecture`` (str), ``key`` (the store key, str) and ``record``
        (where the classifier came from).
    """
    recipe = make_recipe(architecture, epochs, batch_size, seed, profile, recalibrate_batchnorm)
    job = make_job(
        recipe,
        x_hat_train,
        y_train,
        x_hat_test,
        y_test,
        label=label,
        context=context,
        data_id=data_id,
    )
    [(_, record)] = run_jobs(recipe, [job], cache=cache, log=reporter(verbose), side_by_side=False)
    return result_of(recipe, job, record)


def evaluation_accuracies(
    reconstructions: Sequence[Mapping],
    y_train,
    y_test,
    *,
    architecture: str | Callable[[], keras.Model] = "perfect",
    epochs: int | None = None,
    batch_size: int = 32,
    seed: int = 0,
    profile=None,
    recalibrate_batchnorm: bool | None = None,
    cache=True,
    verbose: int = 1,
    side_by_side: bool = True,
) -> list[dict]:
    """:func:`evaluation_accuracy` for several sets of reconstructions, trained in one pass.

    The evaluation classifiers of one layer (its RefAE and each alpha) share
    the architecture, the recipe, the labels and the batch order; only their
    images differ. Those not in the store train side by side, every batch
    going through all of them in one step, and each ends as it would have
    alone, up to float rounding (``benchmarks/bench_eval_classifiers.py``
    measures the time this saves and prints both ways' losses). Stored ones
    are loaded, and share their store keys with :func:`evaluation_accuracy`.

    Parameters
    ----------
    reconstructions : sequence of dict
        One per classifier, with keys ``x_hat_train`` (array, or a function
        returning it, which needs ``data_id``), ``x_hat_test``, and optionally
        ``label``, ``context`` and ``data_id``, as for :func:`evaluation_accuracy`.
    y_train, y_test : ndarray
        int labels, shared by every set.
    architecture, epochs, batch_size, seed, profile, recalibrate_batchnorm, cache, verbose
        As for :func:`evaluation_accuracy`, shared by every classifier.
    side_by_side : bool
        Train the missing classifiers in one pass (default); ``False`` trains
        them one after another, as separate :func:`evaluation_accuracy` calls.

    Returns
    -------
    list of dict
        One :func:`evaluation_accuracy` result per set, in order.
    """
    recipe = make_recipe(architecture, epochs, batch_size, seed, profile, recalibrate_batchnorm)
    sets = list(reconstructions)
    if not sets:
        raise InvalidInputError("reconstructions is empty: give at least one set")
    jobs = []
    for i, item in enumerate(sets):
        unknown = set(item) - _SET_KEYS
        if unknown or "x_hat_train" not in item or "x_hat_test" not in item:
            raise InvalidInputError(
                f"reconstructions[{i}] has keys {sorted(item)}; accepted: {sorted(_SET_KEYS)} "
                "(x_hat_train and x_hat_test required)"
            )
        jobs.append(
            make_job(
                recipe,
                item["x_hat_train"],
                y_train,
                item["x_hat_test"],
                y_test,
                label=item.get("label", f"evaluation classifier {i}"),
                context=item.get("context"),
                data_id=item.get("data_id"),
            )
        )
    found = run_jobs(recipe, jobs, cache=cache, log=reporter(verbose), side_by_side=side_by_side)
    return [result_of(recipe, job, record) for job, (_, record) in zip(jobs, found)]


_SET_KEYS = {"x_hat_train", "x_hat_test", "label", "context", "data_id"}


def misread_readings(classifier: keras.Model, x, x_hat, y, *, batch_size: int = 512) -> dict:
    """How the classifier reads the reconstructions of the images it misread.

    For the images whose original the classifier gets wrong: does it read
    the reconstruction as its own (wrong) prediction, or as the true class?
    At high alpha a decoder trained with the true labels in eq. 1 can
    "correct" the classifier's mistakes instead of showing them; this is the
    number that tells.

    Parameters
    ----------
    classifier : keras.Model
        The explained classifier.
    x : ndarray
        The originals, uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)``.
    x_hat : ClaDec, RefAE or ndarray
        A fitted explainer or its reconstructions of ``x``.
    y : ndarray
        int ``(N,)`` true labels.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    dict
        ``n_misread`` (int), and the fractions of misread images whose
        reconstruction is read as the predicted class (``as_predicted``), as
        the true class (``as_true``) or as a third class (``as_other``).
        Only the misread images are reconstructed (about 1 in 100 on MNIST);
        :func:`fidelity` gives the agreement over all images.
    """
    images = as_images(x, image_shape_of(classifier))
    labels = as_labels(y, len(images), int(classifier.output_shape[-1]))
    is_explainer = hasattr(x_hat, "reconstruct")
    if not is_explainer:
        x_hat = _resolve_reconstructions(x_hat, images, batch_size)  # checks the shape
    pred_x = predict_batched(classifier, images, batch_size).argmax(axis=1)
    wrong = np.flatnonzero(pred_x != labels)
    if not wrong.size:
        return {"n_misread": 0, **dict.fromkeys(("as_predicted", "as_true", "as_other"), np.nan)}
    if is_explainer:
        rebuilt = _resolve_reconstructions(x_hat, images[wrong], batch_size)
    else:
        rebuilt = x_hat[wrong]
    pred_hat = predict_batched(classifier, rebuilt, batch_size).argmax(axis=1)
    as_predicted, as_true = pred_hat == pred_x[wrong], pred_hat == labels[wrong]
    return {
        "n_misread": int(wrong.size),
        "as_predicted": float(np.mean(as_predicted)),
        "as_true": float(np.mean(as_true)),
        "as_other": float(np.mean(~as_predicted & ~as_true)),
    }


def texture(images) -> float:
    """Mean absolute difference of horizontally neighbouring pixels, in [0, 1].

    High for stripes, prints and sharp edges, low for flat or blurred areas:
    a one-number check of "outlines, not texture" (Fashion-MNIST's dense layer).

    Parameters
    ----------
    images : ndarray
        uint8 ``(N, 28, 28)`` or float ``(N, 28, 28, 1)`` images in [0, 1].

    Returns
    -------
    float
        The mean over all images and neighbouring pixel pairs.
    """
    x = as_images(images, (28, 28, 1))[..., 0]
    return float(np.mean(np.abs(np.diff(x, axis=2))))

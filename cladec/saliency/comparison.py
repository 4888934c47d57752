"""ClaDec beside saliency maps: the maps, their faithfulness, and the randomisation test.

What tutorial 05 and ``python -m cladec saliency`` run. ClaDec's explanation
is an image (its reconstruction read against RefAE's), not a ranking of
pixels; to put it on the saliency methods' scale this module ranks pixels by
one of :data:`CLADEC_RANKINGS`:

``magnitude`` (the default)
    The absolute difference of ClaDec's and RefAE's reconstructions:
    everywhere the two disagree, either way. Both colours of a difference map
    carry the explanation (red: drawn for the classifier, blue: kept by a
    code made for rebuilding but not by the classifier's), so both rank.
``difference``
    ClaDec minus RefAE, highest first: where the decoder, pulled towards the
    classifier, draws ink that the reference autoencoder does not.
``reconstruction``
    ClaDec's own reconstruction: the pixels it draws brightest, i.e. what the
    layer keeps of the digit as the classifier sees it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import InvalidInputError
from .faithfulness import MODES, area_summary, perturbation_curves, random_scores, rank_correlation
from .methods import METHODS, saliency_maps
from .registry import REGISTRY
from .sanity import accuracy, cascading_randomisation

__all__ = [
    "CLADEC_RANKINGS",
    "cladec_map",
    "method_maps",
    "faithfulness_table",
    "RANDOMISATION_EPOCHS",
    "RandomisationStudy",
    "fit_randomised_cladec",
    "randomisation_study",
]

#: How a ClaDec explanation ranks pixels (see the module notes); the first is the default.
CLADEC_RANKINGS = ("magnitude", "difference", "reconstruction")


def cladec_map(cladec, refae, images, ranking: str = "magnitude") -> np.ndarray:
    """ClaDec's explanation of ``images`` as a pixel map, float32 ``(N, H, W)``.

    Parameters
    ----------
    cladec : ClaDec
        A fitted decoder.
    refae : RefAE or None
        The reference autoencoder of the same layer (not needed for ``reconstruction``).
    images : ndarray
        Images as for :meth:`cladec.ClaDec.reconstruct`.
    ranking : {"magnitude", "difference", "reconstruction"}
        See :data:`CLADEC_RANKINGS`; the comparison's default is ``magnitude``.

    Returns
    -------
    ndarray
        float32 ``(N, H, W)``.
    """
    if ranking not in CLADEC_RANKINGS:
        raise InvalidInputError(
            f"ranking must be one of {', '.join(CLADEC_RANKINGS)}; got {ranking!r}"
        )
    own = cladec.reconstruct(images)[..., 0]
    if ranking == "reconstruction":
        return own.astype(np.float32)
    if refae is None:
        raise InvalidInputError(
            f"the {ranking!r} ranking needs the RefAE of the layer; got refae=None"
        )
    difference = own - refae.reconstruct(images)[..., 0]
    return (np.abs(difference) if ranking == "magnitude" else difference).astype(np.float32)


def method_maps(
    classifier,
    images,
    *,
    cladec: Mapping[str, tuple] = (),
    methods: Sequence[str] = METHODS,
    layer: str = "my_conv",
    classes=None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Every saliency method's maps and every ClaDec map of the same images.

    Parameters
    ----------
    classifier : keras.Model
        The explained classifier.
    images : ndarray
        The images.
    cladec : mapping
        ``{name: (ClaDec, RefAE, ranking)}``: the ClaDec maps to add.
    methods : sequence of str
        Saliency methods, names in :data:`cladec.saliency.registry.REGISTRY`
        (default: the built-in :data:`~cladec.saliency.methods.METHODS`).
    layer : str
        Grad-CAM's layer.
    classes : None or int ndarray
        The class each saliency map explains (default: the prediction).
    seed : int
        Seeds SmoothGrad's noise.

    Returns
    -------
    dict
        float32 ``(N, H, W)`` maps by name: the saliency methods, then the ClaDec maps.
    """
    maps = {
        m: saliency_maps(classifier, images, m, layer=layer, classes=classes, seed=seed)
        for m in methods
    }
    for name, (explainer, refae, ranking) in dict(cladec).items():
        maps[name] = cladec_map(explainer, refae, images, ranking)
    return maps


def ranking_scores(name: str, values: np.ndarray) -> np.ndarray:
    """The pixel ranking a map gives: its method's :attr:`~cladec.saliency.registry.SaliencyMethod.ranking`.

    A gradient's sign says in which direction a pixel would move the score;
    deleting or inserting it matters either way, so gradient and SmoothGrad
    maps rank by their absolute value (``"magnitude"``, as Simonyan et al.
    draw them). Integrated Gradients' signed attributions (the evidence for
    the class first, the evidence against it last) and Grad-CAM's rectified
    map rank by their value (``"value"``); so do the maps of no registered
    method (ClaDec's, the baselines').

    Parameters
    ----------
    name : str
        The map's name (a method of :data:`cladec.saliency.registry.REGISTRY` or another).
    values : ndarray
        The map.

    Returns
    -------
    ndarray
        The scores, highest first.
    """
    method = REGISTRY.get(name)
    return np.abs(values) if method is not None and method.ranking == "magnitude" else values


def faithfulness_table(
    classifier, images, maps: Mapping[str, np.ndarray], *, seed: int = 0, steps: int = 49
) -> tuple[list[dict], dict]:
    """Deletion and insertion areas of each map, with a random ordering as the floor.

    Parameters
    ----------
    classifier : keras.Model
        The classifier the maps explain.
    images : ndarray
        The images the maps were computed on.
    maps : mapping
        ``{name: (N, H, W) map}``; ``"ink"`` (the image's brightness) and
        ``"random"`` are added.
    seed : int
        Seeds the random ordering and the order of tied pixels.
    steps : int
        Points per curve after the first.

    Returns
    -------
    rows : list of dict
        One per map and mode: ``method``, ``mode``, ``area``, ``sem``, ``n``.
    curves : dict
        ``{(method, mode): Curves}``.
    """
    named = dict(maps)
    clash = sorted({"ink", "random"} & set(named))
    if clash:
        raise InvalidInputError(
            f"maps named {clash} would be overwritten by the baselines; rename them"
        )
    x = np.asarray(images)
    x = x / np.float32(255) if x.dtype == np.uint8 else x.reshape(x.shape[:3])
    # Two maps that know nothing of the model: a random order (the floor) and the
    # image's own brightness (on MNIST, deleting ink is a strong attack by itself).
    named["ink"] = x.astype(np.float32)
    named["random"] = random_scores(x.shape, seed)
    rows, curves = [], {}
    for name, values in named.items():
        scores = ranking_scores(name, values)
        for mode in MODES:
            c = perturbation_curves(classifier, images, scores, mode, steps=steps, seed=seed)
            mean, sem = area_summary(c.areas)
            rows.append({"method": name, "mode": mode, "area": mean, "sem": sem, "n": len(c.areas)})
            curves[(name, mode)] = c
    return rows, curves


#: Epochs of each decoder of the randomisation test (at most the profile's):
#: five decoders of ten epochs would cost most of an hour on two cores; every
#: stage, the trained model's included, trains the same epochs, so they compare.
RANDOMISATION_EPOCHS = 3


def fit_randomised_cladec(
    run, alpha: float = 0.99, *, epochs: int | None = None, seed: int = 0, verbose: int = 1
) -> list:
    """One ClaDec decoder per stage of the cascade, each trained on its randomised classifier.

    Parameters
    ----------
    run : LayerExplanation
        The trained classifier, layer, data and profile (from
        :func:`cladec.experiment.explain_layer`).
    alpha : float
        The decoders' alpha.
    epochs : int or None
        Epochs per decoder; default :data:`RANDOMISATION_EPOCHS`, at most the
        profile's decoder epochs. The trained model's decoder is trained the
        same way, so every stage is alike.
    seed : int
        Seeds the new weights and the decoders.
    verbose : int
        1 prints where each decoder came from.

    Returns
    -------
    list of (str, keras.Model, ClaDec)
        Per stage: its label, the (randomised) classifier, the fitted decoder.
    """
    from ..explainers import ClaDec
    from ..store.keys import fingerprint_model

    profile, data = run.profile, run.data
    # Enough for `pretrained verify` to rebuild each randomised classifier.
    context = {
        "dataset": data.name,
        "profile": profile.name,
        "randomised_from": fingerprint_model(run.classifier),
        "randomisation_seed": seed,
    }
    if epochs is None:
        epochs = min(RANDOMISATION_EPOCHS, profile.decoder_epochs)
    out = []
    for label, model in cascading_randomisation(run.classifier, seed=seed):
        explainer = ClaDec(model, run.layer, alpha=alpha).fit(
            data.x_train,
            data.y_train,
            epochs=epochs,
            batch_size=profile.decoder_batch_size,
            seed=seed,
            verbose=verbose,
            context={**context, "randomised": label} if label != "trained" else context,
        )
        out.append((label, model, explainer))
    return out


@dataclass
class RandomisationStudy:
    """How much of each method's ranking survives each stage of the cascade.

    Parameters
    ----------
    stages : list of str
        ``"trained"``, then ``"+scores"``, ``"+my_dense"``, ...
    accuracies : list of float
        Each stage's test accuracy on the study's images.
    correlations : dict
        ``{method: (S, N) ndarray}``: the Spearman rank correlation of each
        image's map at each stage with its map under the trained model.
    """

    stages: list
    accuracies: list
    correlations: dict = field(default_factory=dict)

    def mean(self, method: str) -> np.ndarray:
        """The mean correlation per stage.

        Parameters
        ----------
        method : str
            A key of ``correlations``.

        Returns
        -------
        ndarray
            float ``(S,)``.
        """
        return self.correlations[method].mean(axis=1)

    def sem(self, method: str) -> np.ndarray:
        """The standard error of the mean correlation per stage.

        Parameters
        ----------
        method : str
            A key of ``correlations``.

        Returns
        -------
        ndarray
            float ``(S,)``.
        """
        c = self.correlations[method]
        return c.std(axis=1, ddof=1) / np.sqrt(c.shape[1])


def randomisation_study(
    stages: Sequence[tuple],
    refae,
    images,
    labels,
    *,
    methods: Sequence[str] = METHODS,
    layer: str = "my_conv",
    ranking: str = "magnitude",
    seed: int = 0,
) -> RandomisationStudy:
    """Rank correlations of every method's maps with the trained model's, per stage.

    Parameters
    ----------
    stages : sequence of (str, keras.Model, ClaDec)
        From :func:`fit_randomised_cladec`; the first is the trained model.
    refae : RefAE
        The layer's reference autoencoder. It never sees the classifier's
        weights (it trains its own copy of the encoder from scratch), so one
        serves every stage.
    images : ndarray
        The images (float ``(N, H, W, C)`` in [0, 1] or uint8).
    labels : ndarray
        int ``(N,)`` true labels, for the stage accuracies.
    methods, layer
        As for :func:`method_maps`.
    ranking : str
        How the ClaDec maps rank pixels.
    seed : int
        Seeds SmoothGrad's noise.

    Returns
    -------
    RandomisationStudy
    """
    from ..training import predict_batched

    trained = stages[0][1]
    x = np.asarray(images)
    x = x[..., None] / np.float32(255) if x.dtype == np.uint8 else x
    # Every stage explains the class the trained model predicts, so only the model changes.
    classes = predict_batched(trained, x).argmax(axis=1).astype(np.int32)
    reference: dict[str, np.ndarray] = {}
    study = RandomisationStudy([], [])
    per_stage: dict[str, list] = {}
    for label, model, explainer in stages:
        maps = method_maps(
            model,
            x,
            cladec={"cladec": (explainer, refae, ranking)},
            methods=methods,
            layer=layer,
            classes=classes,
            seed=seed,
        )
        study.stages.append(label)
        study.accuracies.append(accuracy(model, x, np.asarray(labels)))
        maps["ink"] = x[..., 0]
        for name, values in maps.items():
            scores = ranking_scores(name, values)
            reference.setdefault(name, scores)
            per_stage.setdefault(name, []).append(rank_correlation(reference[name], scores))
    study.correlations = {name: np.stack(rows) for name, rows in per_stage.items()}
    return study

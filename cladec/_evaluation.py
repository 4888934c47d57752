"""The evaluation classifiers behind ``metrics.evaluation_accuracy`` and ``evaluation_accuracies``.

One job per set of reconstructions: its store request (what identifies the
classifier), its untrained model, and its training images, computed only if
the classifier must train. Jobs that share the recipe and the labels can train
side by side in one pass (:mod:`cladec._side_by_side`); each member then ends
as it would have alone, up to float rounding, so both ways share store keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from ._atomic import array_digest
from ._inputs import as_images, as_labels, image_shape_of
from ._side_by_side import fit_classifiers_side_by_side
from .architectures import build_classifier
from .exceptions import InvalidInputError
from .profiles import get_profile
from .store import ModelRequest, Trained, obtain
from .store.keys import architecture_digest, fingerprint_model
from .training import evaluate_classifier, fit_classifier, seed_everything
from .training import recalibrate_batchnorm as recalibrate_batchnorm_stats


@dataclass(frozen=True)
class Recipe:
    """What every evaluation classifier of one call shares."""

    arch_name: str
    build_model: Callable[[], keras.Model]
    epochs: int
    batch_size: int
    seed: int
    recalibrate: bool

    def build(self) -> keras.Model:
        # Seeded before every build: each classifier starts from the same weights,
        # and the batch order drawn after a build is the same for all of them.
        seed_everything(self.seed)
        return self.build_model()


def make_recipe(architecture, epochs, batch_size, seed, profile, recalibrate_batchnorm) -> Recipe:
    """Epochs and BatchNorm re-estimation: given, else the profile's, else the reference's (10, on)."""
    chosen = get_profile(profile) if profile is not None else None
    if epochs is None:
        epochs = chosen.eval_epochs if chosen is not None else 10
    if int(epochs) < 1:
        raise InvalidInputError(f"epochs must be at least 1; got {epochs}")
    if recalibrate_batchnorm is None:
        recalibrate_batchnorm = chosen.recalibrate_batchnorm if chosen is not None else True
    if callable(architecture) and not isinstance(architecture, str):
        name = getattr(architecture, "__qualname__", type(architecture).__name__)
        arch_name, build_model = f"custom:{name}", architecture
    else:
        build_classifier(architecture)  # validates the name, with a helpful error
        arch_name, build_model = str(architecture), lambda: build_classifier(architecture)
    return Recipe(
        arch_name, build_model, int(epochs), int(batch_size), int(seed), bool(recalibrate_batchnorm)
    )


@dataclass
class Job:
    """One evaluation classifier to find in the store or train."""

    request: ModelRequest
    model: keras.Model
    training_source: object  # the reconstructions, or a function computing them
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_train: int
    label: str

    def training_images(self) -> np.ndarray:
        source = self.training_source
        images = source() if callable(source) else source
        images = as_images(images, image_shape_of(self.model), name="x_hat_train")
        if len(images) != self.n_train:
            raise InvalidInputError(
                f"x_hat_train returned {len(images)} reconstructions for {self.n_train} labels"
            )
        return images


def make_job(
    recipe: Recipe, x_hat_train, y_train, x_hat_test, y_test, *, label, context, data_id
) -> Job:
    """Check one set of reconstructions and name its classifier in the store."""
    lazy = callable(x_hat_train)
    if lazy and not data_id:
        raise InvalidInputError(
            "x_hat_train given as a function needs data_id: the store key cannot hash "
            "reconstructions that are not computed yet"
        )
    fresh = recipe.build()
    image_shape = image_shape_of(fresh)
    num_classes = int(fresh.output_shape[-1])
    given = None if lazy else as_images(x_hat_train, image_shape, name="x_hat_train")
    x_test = as_images(x_hat_test, image_shape, name="x_hat_test")
    n_train = len(y_train) if lazy else len(given)
    y_tr = as_labels(y_train, n_train, num_classes, name="y_train")
    y_te = as_labels(y_test, len(x_test), num_classes, name="y_test")
    fields = {
        "kind": "eval_classifier",
        "architecture": recipe.arch_name,
        "layers": architecture_digest(fresh),
        "init": fingerprint_model(fresh),
        "data": data_id or array_digest(given, y_tr, x_test, y_te),
        "optimizer": {"name": "adam", "learning_rate": 1e-3, "epsilon": 1e-4},
        "loss": "normalised_cross_entropy",  # what fit_classifier trains with
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "seed": recipe.seed,
        "recalibrate_batchnorm": recipe.recalibrate,
    }
    request = ModelRequest(fields, recipe.build, label, dict(context or {}))
    source = x_hat_train if lazy else given
    return Job(request, fresh, source, y_tr, x_test, y_te, n_train, label)


def _finish(recipe: Recipe, job: Job, model, x_train, history, log) -> Trained:
    """BatchNorm re-estimation and the test score of one trained classifier."""
    if recipe.recalibrate:
        recalibrate_batchnorm_stats(model, x_train)
    metrics = history.last()
    metrics["val_loss"], metrics["val_accuracy"] = evaluate_classifier(
        model, job.x_test, job.y_test
    )
    if log:
        log(
            f"{job.label}: test accuracy {metrics['val_accuracy']:.4f} after {history.seconds:.0f} s"
        )
    return Trained(model, history, metrics)


def _train_alone(recipe: Recipe, job: Job, log) -> Trained:
    x_train = job.training_images()
    if log:
        log(
            f"{job.label}: training a fresh {recipe.arch_name} classifier {recipe.epochs} "
            f"epochs on {job.n_train} reconstructions"
        )
    history = fit_classifier(
        job.model,
        x_train,
        job.y_train,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        log=log,
        label=job.label,
    )
    return _finish(recipe, job, job.model, x_train, history, log)


def _train_together(recipe: Recipe, jobs: Sequence[Job], log) -> list[Trained]:
    sets = [job.training_images() for job in jobs]
    if log:
        log(
            f"training {len(jobs)} fresh {recipe.arch_name} evaluation classifiers side by side, "
            f"{recipe.epochs} epochs on {jobs[0].n_train} reconstructions each"
        )
    # The store looked up every job after the last build (and a lookup builds too),
    # so the global seed is where one separate fit would start its shuffling.
    histories = fit_classifiers_side_by_side(
        [job.model for job in jobs],
        sets,
        jobs[0].y_train,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        log=log,
        labels=[job.label for job in jobs],
    )
    return [
        _finish(recipe, job, job.model, x, history, log)
        for job, x, history in zip(jobs, sets, histories)
    ]


def _check_shared_labels(jobs: Sequence[Job]) -> None:
    first = jobs[0]
    for job in jobs[1:]:
        if job.n_train != first.n_train or not np.array_equal(job.y_train, first.y_train):
            raise InvalidInputError(
                "side by side, every set of reconstructions needs the same training labels; "
                f"{job.label!r} has {job.n_train} labels that differ from {first.label!r}'s "
                "(pass side_by_side=False to train them one after another)"
            )


def run_jobs(recipe: Recipe, jobs: Sequence[Job], *, cache, log, side_by_side: bool) -> list:
    """Find or train every job's classifier; return ``(model, record)`` pairs in order."""
    jobs = list(jobs)
    if not side_by_side or len(jobs) == 1:
        found = []
        for job in jobs:
            if len(found):  # each separate fit starts where a lone call would
                job.model = job.request.build()
            [pair] = obtain(
                cache, [job.request], lambda _r, j=job: [_train_alone(recipe, j, log)], log=log
            )
            found.append(pair)
        return found
    _check_shared_labels(jobs)
    by_request = {id(job.request): job for job in jobs}

    def train(missing):
        return _train_together(recipe, [by_request[id(r)] for r in missing], log)

    return obtain(cache, [job.request for job in jobs], train, log=log)


def result_of(recipe: Recipe, job: Job, record) -> dict:
    metrics = record.metrics
    return {
        "accuracy": float(metrics["val_accuracy"]),
        "loss": float(metrics["val_loss"]),
        "train_accuracy": float(metrics.get("accuracy", float("nan"))),
        "from_cache": record.from_cache,
        "train_seconds": record.train_seconds,
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "seed": recipe.seed,
        "n_train": int(job.n_train),
        "n_test": int(len(job.x_test)),
        "recalibrate_batchnorm": recipe.recalibrate,
        "architecture": recipe.arch_name,
        "key": record.key,
        "record": record,
    }

"""Training on several machines: which worker this process is, and what every worker agrees on.

Under ``tf.distribute.MultiWorkerMirroredStrategy`` every machine runs the
same script; ``TF_CONFIG`` (or the strategy's cluster resolver) says which
task each one is. Three rules follow for the library:

- only the chief writes the model store (:func:`is_chief`);
- every worker builds, trains and saves the same models in the same order,
  since creating a variable and every training step are collective
  operations: a worker that loads a model from its cache while another
  trains it waits forever. :func:`agreed_lookup` lets the store decide cache
  hits together, and :func:`save_elsewhere` saves where the chief saves;
- Keras' ``fit`` needs two repairs under such a strategy (:func:`fit_across_workers`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "is_chief",
    "worker_count",
    "everywhere",
    "agreed_lookup",
    "save_elsewhere",
    "fit_across_workers",
]

_TRAINING_JOBS = ("chief", "worker")


def _cluster_of(strategy) -> tuple[dict, str | None, int]:
    """``(cluster, task type, task index)`` from the strategy's cluster resolver, else ``TF_CONFIG``."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is not None:
        cluster = resolver.cluster_spec().as_dict()
        return cluster, resolver.task_type, int(resolver.task_id or 0)
    try:
        config = json.loads(os.environ.get("TF_CONFIG", "") or "{}")
    except ValueError:  # TensorFlow refuses it too: no cluster can start with it
        return {}, None, 0
    task = config.get("task") or {}
    return config.get("cluster") or {}, task.get("type"), int(task.get("index") or 0)


def worker_count(strategy=None) -> int:
    """How many processes train together under ``strategy`` (default: the current one); 1 alone."""
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    if getattr(strategy, "cluster_resolver", None) is None:
        return 1  # MirroredStrategy, the default strategy: one process
    cluster, _, _ = _cluster_of(strategy)
    return max(1, sum(len(cluster.get(job) or ()) for job in _TRAINING_JOBS))


def chief_task(cluster: dict, task_type: str | None, index: int) -> bool:
    """Whether a task is its cluster's chief: ``chief``, or worker 0 of a cluster without one.

    A process outside any cluster (no task type) is its own chief.
    """
    if not task_type:
        return True
    if task_type == "chief":
        return True
    return task_type == "worker" and index == 0 and not cluster.get("chief")


def is_chief() -> bool:
    """Whether this process may write the model store.

    The task comes from the current strategy's cluster resolver (a
    ``MultiWorkerMirroredStrategy`` scope), else from ``TF_CONFIG``, so a
    worker's code outside the strategy's scope does not write either.
    """
    return chief_task(*_cluster_of(tf.distribute.get_strategy()))


def everywhere(flags: Iterable[bool]) -> list[bool]:
    """For each flag, whether it holds on every worker of the current strategy's cluster.

    A collective operation: every worker must call it at the same point with
    as many flags. Alone (one process), the flags are returned as they are.
    """
    flags = [bool(f) for f in flags]
    strategy = tf.distribute.get_strategy()
    if worker_count(strategy) < 2 or not flags:
        return flags
    misses = tf.constant([0.0 if f else 1.0 for f in flags])
    per_replica = strategy.run(lambda: tf.identity(misses))
    total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
    return [float(m) == 0.0 for m in np.asarray(total)]


def agreed_lookup(requests: Sequence, holds: Callable, find: Callable) -> list:
    """Look models up in a store so that every worker serves, or trains, the same ones.

    Under a multi-worker strategy creating a variable is a broadcast from the
    chief and a training step sums every worker's gradients, so a worker that
    loads a model while another trains it blocks both. A model is served only
    when every worker holds it (``holds(request)``, without building it) and
    then loads it; every worker builds it first, whatever its copy turns out to be.

    Parameters
    ----------
    requests : sequence
        Objects with a ``build()`` method that makes the untrained model.
    holds : callable
        ``holds(request)``: whether this worker's store lists the model.
    find : callable
        ``find(request, build)``: ``(model, record)`` or ``None``.

    Returns
    -------
    list
        ``find``'s result per request, ``None`` where any worker missed it.
    """
    if worker_count() < 2:
        return [find(request, request.build) for request in requests]
    found = []
    for request, held in zip(requests, everywhere(map(holds, requests))):
        model = request.build() if held else None
        found.append(find(request, lambda model=model: model) if held else None)
    loaded = everywhere(hit is not None for hit in found)
    return [hit if ok else None for hit, ok in zip(found, loaded)]


def save_elsewhere(model: keras.Model) -> None:
    """Save ``model``'s weights into a temporary folder and delete them: a non-chief's store write.

    Keras creates a variable while it saves a compiled model (once per
    process), and under the strategy creating a variable is a broadcast that
    every worker must join, so every worker saves when the chief does. The
    folder is the system's temporary one, never the store's; alone, nothing
    is saved.
    """
    if worker_count() < 2:
        return
    with tempfile.TemporaryDirectory(prefix="cladec-worker-") as folder:
        model.save_weights(Path(folder) / "dropped.weights.h5")


def _with_batch_axis(outputs):
    return keras.tree.map_structure(
        lambda v: tf.reshape(v, [1]) if tf.is_tensor(v) and v.shape.rank == 0 else v, outputs
    )


@contextmanager
def fit_across_workers(model: keras.Model, x, y) -> Iterator[None]:
    """Repair ``model.fit(x, y, ...)`` for the duration of the block when several workers train.

    Keras 3 (3.15 here) fails twice under a ``MultiWorkerMirroredStrategy``
    of two or more workers: ``fit`` reduces its
    first batch across the replicas to learn the input shapes, which the
    strategy refuses for an ``(x, y)`` pair, and it averages each step's
    scalar metrics across the workers along an axis they do not have. Here
    the model learns its shapes from the first rows of the local arrays, and
    the steps return their metrics with a leading axis of length one, so the
    same average works. With one process nothing is changed.
    """
    if worker_count(model.distribute_strategy) < 2:
        yield
        return
    first = keras.tree.map_structure(lambda a: a[:1], (x, y))
    build, train_step, test_step = model._maybe_symbolic_build, model.train_step, model.test_step
    repairs = {
        "_maybe_symbolic_build": lambda iterator=None, data_batch=None: build(data_batch=first),
        "train_step": lambda data: _with_batch_axis(train_step(data)),
        "test_step": lambda data: _with_batch_axis(test_step(data)),
    }
    for name, method in repairs.items():
        setattr(model, name, method)
    try:
        yield
    finally:
        for name in repairs:
            delattr(model, name)

"""Evaluation classifiers of one (dataset, layer) pair: one pass side by side versus separate fits.

The evaluation accuracy trains one fresh classifier per model of a layer (the
RefAE and ClaDec at each alpha) on that model's reconstructions. Decoders of
one layer train side by side in one pass (``bench_training.py``), and so do
the evaluation classifiers (``cladec.metrics.evaluation_accuracies``); this
script measures what that gains here. The one pass is
``fit_classifiers_side_by_side``: one wrapper ``keras.Model`` whose inputs are
the K reconstruction sets and whose loss is the sum of the K classifiers'
normalised cross-entropies. The separate runs are K calls of
``cladec.training.fit_classifier``, as ``evaluation_accuracies(...,
side_by_side=False)`` makes them. Both train the same architecture with the
same recipe (Adam(1e-3, epsilon=1e-4), batch 32).

Run: ``python benchmarks/bench_eval_classifiers.py [--images 6000] [--epochs 2]``.
Prints the whole-call and the second-epoch ratio (one pass / separate) in one
run, and each classifier's last-epoch training loss both ways.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def _stand_in_reconstructions(x, k: int):
    """K image sets of the same digits, as K explainers' reconstructions would be.

    Only the cost is measured, and it does not depend on what the pixels show;
    set 0 is the originals, the others are noisier copies so the classifiers
    do not all see identical inputs.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    sets = [x]
    for i in range(1, k):
        noise = rng.normal(0.0, 0.1 * i, size=x.shape).astype(np.float32)
        sets.append(np.clip(x + noise, 0.0, 1.0))
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6000, help="training images per classifier")
    parser.add_argument("--epochs", type=int, default=2, help="at least 2: the second is timed")
    parser.add_argument("--classifiers", type=int, default=3, help="K, the models of one layer")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the second epoch is timed)")

    import keras
    import numpy as np
    import tensorflow as tf
    from _timing import EpochTimes

    import cladec
    from cladec._side_by_side import fit_classifiers_side_by_side
    from cladec.training import fit_classifier, seed_everything

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}"
    )
    k, n, batch = args.classifiers, args.images, args.batch_size
    ds = cladec.load_dataset("mnist")
    x = ds.x_train[:n, ..., None].astype(np.float32) / 255
    y = ds.y_train[:n]
    sets = _stand_in_reconstructions(x, k)

    def fresh() -> keras.Model:
        # As evaluation_accuracy builds each of its classifiers: seeded, so all start alike.
        seed_everything(0)
        return cladec.build_classifier("perfect")

    # Warm-up: TensorFlow's one-time set-up stays out of both timed runs.
    fit_classifier(fresh(), x[:256], y[:256], epochs=1, batch_size=batch)

    # One pass: the K classifiers side by side, as cladec.metrics.evaluation_accuracies trains them.
    # fresh() leaves the global seed where each separate fit_classifier call starts
    # its shuffling, so the one pass draws the same batch order as each of them.
    members = [fresh() for _ in range(k)]
    times = EpochTimes()
    start = time.perf_counter()
    histories = fit_classifiers_side_by_side(
        members, sets, y, epochs=args.epochs, batch_size=batch, callbacks=[times]
    )
    one_pass, one_pass_epoch = time.perf_counter() - start, times.seconds[-1]
    one_pass_losses = [h.epochs["loss"][-1] for h in histories]

    # K separate fit_classifier calls: what evaluation_accuracy does once per model.
    separate, separate_epoch, separate_losses = 0.0, 0.0, []
    for images in sets:
        times = EpochTimes()
        model = fresh()
        history = fit_classifier(
            model, images, y, epochs=args.epochs, batch_size=batch, callbacks=[times]
        )
        separate += history.seconds
        separate_epoch += times.seconds[-1]
        separate_losses.append(history.epochs["loss"][-1])

    print(
        f"{k} evaluation classifiers (perfect, {n} MNIST images each, {args.epochs} epochs, "
        f"batch {batch}), one pass {one_pass:.1f} s, {_WORDS.get(k, k)} separate "
        f"{separate:.1f} s, ratio {one_pass / separate:.2f}"
    )
    print(
        f"  second epoch only: one pass {one_pass_epoch:.1f} s, {_WORDS.get(k, k)} separate "
        f"{separate_epoch:.1f} s, ratio {one_pass_epoch / separate_epoch:.2f}"
    )
    # Same start, same batches, each member's own gradient: the losses should agree
    # up to float rounding; a large gap would mean the one pass trains something else.
    print(
        "  last-epoch training loss, one pass / separate: "
        + ", ".join(f"{a:.4f} / {b:.4f}" for a, b in zip(one_pass_losses, separate_losses))
    )


if __name__ == "__main__":
    main()

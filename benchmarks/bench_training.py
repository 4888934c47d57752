"""Training costs on this machine: classifier epoch time, a 5-alpha sweep in one pass
versus five separate trainings, and the accuracies the full profile reaches.

Run: ``python benchmarks/bench_training.py [--images 6000] [--skip-full]``.
Prints one line per figure; the docs and the closing notes quote these lines.
The timing runs bypass the model cache; the full-profile classifiers use it.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _classifier_gradient_seconds(classifier, x, y, *, copies: int, batch_size: int = 32) -> float:
    """One epoch of the classifier's loss gradient with respect to ``copies`` stacked batches."""
    import numpy as np
    import tensorflow as tf

    from cladec.training import normalised_cross_entropy

    onehot = tf.one_hot(y, 10)

    @tf.function(autograph=False)
    def step(images, labels):
        images = tf.concat([images] * copies, axis=0)
        labels = tf.concat([labels] * copies, axis=0)
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_mean(
                normalised_cross_entropy(labels, classifier(images, training=False))
            )
        return tape.gradient(loss, images)

    step(x[:batch_size], onehot[:batch_size])  # trace outside the timing
    start = time.perf_counter()
    for begin in range(0, len(x), batch_size):
        step(x[begin : begin + batch_size], onehot[begin : begin + batch_size])
    np.asarray(step(x[:batch_size], onehot[:batch_size]))  # wait for the last step
    return time.perf_counter() - start


def _timed_fit(fit) -> tuple[float, float]:
    """Run ``fit(callbacks)`` and return its wall time and its last epoch's time."""
    from _timing import EpochTimes

    times = EpochTimes()
    start = time.perf_counter()
    fit([times])
    return time.perf_counter() - start, times.seconds[-1]


_ORIGIN = {"trained": "trained now", "cache": "from the cache", "pretrained": "shipped pretrained"}


def _full_profile_line(trained) -> str:
    """One line on a classifier from :func:`cladec.obtain_classifier`: accuracy, epochs, cost, origin."""
    record = trained.record
    return (
        f"full profile: {record.fields['architecture']} on {trained.dataset}: test accuracy "
        f"{trained.test_accuracy:.4f} after {record.fields['epochs']} epochs, "
        f"{record.train_seconds:.0f} s of training ({_ORIGIN[record.source]})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--images", type=int, default=6000, help="training images for the timing runs"
    )
    parser.add_argument("--layer", default="my_dense")
    parser.add_argument(
        "--skip-full", action="store_true", help="do not train/load the full-profile classifiers"
    )
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    import cladec
    from cladec.training import fit_classifier, seed_everything

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}"
    )
    ds = cladec.load_dataset("mnist")
    n = args.images
    x = ds.x_train[:n, ..., None].astype(np.float32) / 255
    y = ds.y_train[:n]

    # 1. classifier epoch time (reference recipe, batch 32), scaled to 60,000 images.
    # The first epoch includes tracing the training step, so the second one is timed.
    for kind in ("perfect", "diff"):
        seed_everything(0)
        model = cladec.build_classifier(kind)
        _, seconds = _timed_fit(
            lambda cb, m=model: fit_classifier(m, x, y, epochs=2, batch_size=32, callbacks=cb)
        )
        print(
            f"classifier epoch ({kind}, batch 32): {seconds:.1f} s for {n} images "
            f"= {seconds * 60000 / n:.0f} s per 60,000-image epoch"
        )

    # 2. five alphas: one pass versus five separate trainings (same data, epochs, batch)
    seed_everything(0)
    clf = cladec.build_classifier("perfect")
    fit_classifier(clf, x, y, epochs=1, batch_size=64, log=None)
    alphas = [0.0, 0.5, 0.99, 0.999, 1.0]
    # batch 32: the reference and full-profile decoder batch size. Two epochs: the
    # second one shows the steady state, after tracing and set-up, which is what
    # a long run (8 epochs of 60,000 images) mostly consists of.
    # verbose 0: the epoch times come from a callback, not from the log lines.
    settings = {"epochs": 2, "batch_size": 32, "verbose": 0, "cache": False}
    _timed_fit(  # warm-up: TensorFlow's one-time set-up stays out of the timed runs
        lambda cb: cladec.ClaDec(clf, args.layer, alpha=0.5).fit(
            x[:128], y[:128], callbacks=cb, **settings
        )
    )
    one_pass, one_pass_epoch = _timed_fit(
        lambda cb: cladec.fit_alpha_sweep(clf, args.layer, alphas, x, y, callbacks=cb, **settings)
    )
    separate = [
        _timed_fit(
            lambda cb, a=alpha: cladec.ClaDec(clf, args.layer, alpha=a).fit(
                x, y, callbacks=cb, **settings
            )
        )
        for alpha in alphas
    ]
    separate_total = sum(whole for whole, _ in separate)
    separate_epoch = sum(epoch for _, epoch in separate)
    print(
        f"5-alpha sweep on {args.layer} ({n} images, 2 epochs, batch 32): one pass "
        f"{one_pass:.1f} s, five separate trainings {separate_total:.1f} s, "
        f"ratio {one_pass / separate_total:.2f}"
    )
    print(
        f"  second epoch only: one pass {one_pass_epoch:.1f} s, five separate "
        f"{separate_epoch:.1f} s, ratio {one_pass_epoch / separate_epoch:.2f}"
    )
    # What no single pass can share: every alpha > 0 needs the frozen classifier's
    # forward and backward pass on its own reconstructions.
    scored = sum(a > 0 for a in alphas)
    classifier_part = _classifier_gradient_seconds(clf, x, y, copies=scored)
    print(
        f"  the classifier's forward + backward passes for the {scored} alphas > 0 alone: "
        f"{classifier_part:.1f} s an epoch, so an epoch of any one-pass scheme costs at least "
        f"{classifier_part / separate_epoch:.2f} of the separate trainings' epochs"
    )

    # 3. accuracies reached under the full profile (trained once, then read from the cache)
    if not args.skip_full:
        for kind, name in (("perfect", "mnist"), ("diff", "mnist"), ("perfect", "fashion_mnist")):
            print(
                _full_profile_line(cladec.obtain_classifier(kind, name, profile="full", verbose=0))
            )


if __name__ == "__main__":
    main()

"""Saliency maps: cladec's batched methods against Google PAIR's ``saliency``, one image per call.

``cladec.saliency.methods`` computes its four methods batched over images (and over
SmoothGrad's noise samples or Integrated Gradients' path steps); PAIR's
package takes one image per call, and its SmoothGrad one model call per noise
sample. This script times both on the same real MNIST test digits with the
shipped "perfect" classifier, interleaved (PAIR, cladec, PAIR, cladec...) over
``--repeats`` rounds, and prints the median per-image time of each and their
ratio, method by method. Both explain the class logit, with the same settings
(SmoothGrad 25 samples at noise 0.15, Integrated Gradients 32 steps from black,
Grad-CAM at ``my_conv``).

Run: ``python benchmarks/bench_saliency.py [--images 100] [--repeats 3]``
(needs ``pip install saliency``, part of the test extra).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")


def _pair_maps(core, clf, x, classes, method):
    """PAIR's maps of ``x``, one call per image, for the logit of ``classes``."""
    import keras
    import numpy as np
    import tensorflow as tf

    scores = clf.get_layer("scores")
    probe = keras.Model(clf.inputs, [clf.get_layer("my_conv").output, scores.input])

    @tf.function(reduce_retracing=True)
    def gradients(batch, cls):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(batch)
            features, hidden = probe(batch, training=False)
            logit = tf.gather(tf.matmul(hidden, scores.kernel) + scores.bias, cls, axis=1)
        return features, tape.gradient(logit, features), tape.gradient(logit, batch)

    def call(batch, call_model_args=None, expected_keys=None):
        cls = tf.constant(call_model_args["class"], tf.int32)
        features, d_features, d_input = gradients(tf.constant(np.asarray(batch, np.float32)), cls)
        if core.CONVOLUTION_LAYER_VALUES in expected_keys:
            return {
                core.CONVOLUTION_LAYER_VALUES: features.numpy(),
                core.CONVOLUTION_OUTPUT_GRADIENTS: d_features.numpy(),
            }
        return {core.INPUT_OUTPUT_GRADIENTS: d_input.numpy()}

    out = []
    for image, cls in zip(x, classes):
        args = {"class": int(cls)}
        if method == "gradient":
            out.append(core.GradientSaliency().GetMask(image, call, args))
        elif method == "smoothgrad":
            mask = core.GradientSaliency().GetSmoothedMask(
                image, call, args, stdev_spread=0.15, nsamples=25, magnitude=False
            )
            out.append(mask)
        elif method == "integrated_gradients":
            baseline = np.zeros_like(image)
            mask = core.IntegratedGradients().GetMask(
                image, call, args, baseline, x_steps=32, batch_size=32
            )
            out.append(mask)
        else:
            out.append(core.GradCam().GetMask(image, call, args, three_dims=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100, help="test digits per round")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()

    import numpy as np
    import saliency.core as core

    from cladec.classifiers import obtain_classifier
    from cladec.datasets import load_dataset
    from cladec.saliency.methods import saliency_maps

    data = load_dataset("mnist")
    clf = obtain_classifier("perfect", data, profile="full", verbose=0).model
    x = data.x_test[: args.images, ..., None].astype(np.float32) / 255
    classes = clf.predict(x, verbose=0).argmax(axis=1)
    print(f"{args.images} MNIST test digits, {args.repeats} interleaved rounds, median per image:")
    for method in METHODS:
        # One warm-up each, so tracing the graphs is not timed.
        _pair_maps(core, clf, x[:2], classes[:2], method)
        saliency_maps(clf, x[:2], method, layer="my_conv")
        pair_times, ours_times = [], []
        for _round in range(args.repeats):
            start = time.perf_counter()
            _pair_maps(core, clf, x, classes, method)
            pair_times.append((time.perf_counter() - start) / len(x))
            start = time.perf_counter()
            saliency_maps(clf, x, method, layer="my_conv")
            ours_times.append((time.perf_counter() - start) / len(x))
        pair, ours = statistics.median(pair_times), statistics.median(ours_times)
        print(
            f"{method}: PAIR {1000 * pair:.2f} ms, cladec {1000 * ours:.2f} ms, "
            f"ratio cladec / PAIR {ours / pair:.2f}"
        )


if __name__ == "__main__":
    main()

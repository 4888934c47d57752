"""Inference passes: eager calls against the compiled, remembered pass of ``predict_batched``.

Times, interleaved over ``--repeats`` rounds on the same real MNIST test
digits, the shipped "perfect" classifier (or an untrained one with
``--untrained``) three ways: eager ``model(batch, training=False)`` calls, a
first compiled pass (nothing remembered), and the same call again (answered
from memory). Prints the median seconds of each and the ratios; also checks
that the outputs are the same.

Run: ``python benchmarks/bench_inference.py [--images 10000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--untrained", action="store_true", help="skip loading the shipped model")
    args = parser.parse_args()

    import numpy as np

    import cladec
    from cladec import _forward
    from cladec.training import predict_batched

    data = cladec.load_dataset("mnist")
    x = data.x_test[: args.images, ..., None].astype(np.float32) / 255
    if args.untrained:
        model = cladec.build_classifier("perfect")
    else:
        model = cladec.train_classifier("perfect", data, profile="full", verbose=0)

    def eager():
        return np.concatenate(
            [
                np.asarray(model(x[i : i + args.batch_size], training=False))
                for i in range(0, len(x), args.batch_size)
            ]
        )

    def timed(run):
        start = time.perf_counter()
        out = run()
        return time.perf_counter() - start, out

    eager()  # warm-up: first calls build kernels
    _forward.forget()
    predict_batched(model, x[: args.batch_size], args.batch_size)
    times = {"eager": [], "compiled": [], "remembered": []}
    for _ in range(args.repeats):
        seconds, reference = timed(eager)
        times["eager"].append(seconds)
        _forward.forget()
        seconds, first = timed(lambda: predict_batched(model, x, args.batch_size))
        times["compiled"].append(seconds)
        seconds, again = timed(lambda: predict_batched(model, x, args.batch_size))
        times["remembered"].append(seconds)
        np.testing.assert_allclose(first, reference, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(first, again)
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"inference over {len(x)} images, batch {args.batch_size}, {args.repeats} rounds:")
    for name, seconds in median.items():
        print(f"  {name:<10} median {seconds:.3f} s")
    print(f"eager / compiled ratio {median['eager'] / median['compiled']:.2f}")
    print(f"compiled / remembered ratio {median['compiled'] / max(median['remembered'], 1e-9):.0f}")


if __name__ == "__main__":
    main()

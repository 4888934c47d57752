"""Evaluation accuracy against the evaluation classifier's training epochs.

The ``full`` profile trains evaluation classifiers 3 epochs, the reference
run 10. This script trains one evaluation classifier per model (the RefAE and
ClaDec at the given alphas of one layer) and prints its test accuracy on the
reconstructions after every epoch, so the effect of the shortcut can be read
off one run. The results page quotes its figures.

Run: ``python benchmarks/eval_accuracy_epochs.py fashion_mnist my_dense --epochs 10``
(the classifier, RefAE and decoders come from the model cache, or train
first under the ``full`` profile; each evaluation epoch over 60,000
reconstructions takes one to two and a half minutes on a 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("mnist", "fashion_mnist"))
    parser.add_argument("layer", choices=("my_dense", "my_conv"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.99])
    args = parser.parse_args()

    import numpy as np

    import cladec
    from cladec.experiment import explain_layer
    from cladec.training import (
        evaluate_classifier,
        fit_classifier,
        recalibrate_batchnorm,
        seed_everything,
    )

    explanation = explain_layer(
        args.dataset, args.layer, alphas=args.alphas, profile="full", verbose=0
    )
    data = explanation.data
    models = {"RefAE": explanation.refae}
    models.update({f"ClaDec alpha={a:g}": m for a, m in explanation.cladec.items()})
    onehot = np.eye(10, dtype="float32")[data.y_train]
    for name, model in models.items():
        x_train = model.reconstruct(data.x_train)
        x_test = model.reconstruct(data.x_test)
        seed_everything(0)
        classifier = cladec.build_classifier("perfect")
        start = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            if epoch == 1:  # compiles with the reference recipe; later epochs continue it
                fit_classifier(classifier, x_train, data.y_train, epochs=1, log=None)
            else:
                classifier.fit(x_train, onehot, epochs=1, batch_size=32, shuffle=True, verbose=0)
            # Score with re-estimated BatchNorm statistics, as the evaluation does, then
            # put the training state back so the next epoch continues from it.
            state = [w.numpy() for w in classifier.weights]
            recalibrate_batchnorm(classifier, x_train)
            _, accuracy = evaluate_classifier(classifier, x_test, data.y_test)
            for weight, value in zip(classifier.weights, state):
                weight.assign(value)
            print(
                f"{args.dataset} / {args.layer}, {name}: after epoch {epoch}, test accuracy "
                f"{accuracy:.4f} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()

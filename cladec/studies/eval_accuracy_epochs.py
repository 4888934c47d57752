"""Evaluation accuracy against the evaluation classifier's training epochs.

The reference run trains evaluation classifiers 10 epochs (so does the
``full`` profile now; it once stopped at 3). This script trains one evaluation classifier per model (the RefAE and
ClaDec at the given alphas of one layer) and prints its test accuracy on the
reconstructions after every epoch, so the effect of the shortcut can be read
off one run. The results page quotes its figures.

Run: ``python -m cladec.studies.eval_accuracy_epochs fashion_mnist my_dense --epochs 10``
(the classifier, RefAE and decoders come from the model cache, or train
first under the ``full`` profile; each evaluation epoch over 60,000
reconstructions takes one to two and a half minutes on a 2-core machine;
``--profile quick --epochs 2`` is a smoke run of a few minutes).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("mnist", "fashion_mnist"))
    parser.add_argument("layer", choices=("my_dense", "my_conv"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.99])
    parser.add_argument(
        "--refae", action=argparse.BooleanOptionalAction, default=True, help="include the RefAE"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="evaluation classifiers' seeds (0 is the one the evaluation uses)",
    )
    parser.add_argument(
        "--profile", default="full", help="the models' profile (quick: a smoke run in minutes)"
    )
    return parser.parse_args()


def main() -> None:
    """Print the evaluation accuracy after every epoch of the evaluation classifiers (see the module docstring)."""
    args = _arguments()

    import keras
    import numpy as np

    import cladec
    from cladec.lesson import explain_layer
    from cladec.training import (
        evaluate_classifier,
        fit_classifier,
        recalibrate_batchnorm,
        seed_everything,
    )

    class TestEveryEpoch(keras.callbacks.Callback):
        """Prints the test accuracy after every epoch, as the evaluation would score it then.

        The evaluation re-estimates the BatchNorm statistics after training;
        doing so here changes only non-trainable state (those statistics and
        the dropout seed), which is put back so the next epoch trains on as
        if nothing had happened: the last line is what ``--epochs`` epochs of
        the evaluation give.
        """

        def __init__(self, name, x_train, x_test, y_test):
            super().__init__()
            self.name, self.x_train, self.x_test, self.y_test = name, x_train, x_test, y_test
            self.accuracy = None
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            state = [v.numpy() for v in self.model.non_trainable_variables]
            recalibrate_batchnorm(self.model, self.x_train)
            _, accuracy = evaluate_classifier(self.model, self.x_test, self.y_test)
            for variable, value in zip(self.model.non_trainable_variables, state):
                variable.assign(value)
            self.accuracy = accuracy
            print(
                f"{args.dataset} / {args.layer}, {self.name}: after epoch {epoch + 1}, test "
                f"accuracy {accuracy:.4f} ({time.perf_counter() - self.start:.0f} s)",
                flush=True,
            )

    explanation = explain_layer(
        args.dataset, args.layer, alphas=args.alphas, profile=args.profile, verbose=0
    )
    data = explanation.data
    models = {"RefAE": explanation.refae} if args.refae else {}
    models.update({f"ClaDec alpha={a:g}": m for a, m in explanation.cladec.items()})
    last = {}
    for name, model in models.items():
        x_train = model.reconstruct(data.x_train)
        x_test = model.reconstruct(data.x_test)
        for seed in args.seeds:
            # One fit of all the epochs, seeded as cladec.metrics.evaluation_accuracy seeds its own.
            seed_everything(seed)
            classifier = cladec.build_classifier("perfect")
            tracker = TestEveryEpoch(f"{name}, seed {seed}", x_train, x_test, data.y_test)
            fit_classifier(
                classifier, x_train, data.y_train, epochs=args.epochs, callbacks=[tracker]
            )
            last.setdefault(name, []).append(tracker.accuracy)
    if len(args.seeds) > 1:
        for name, accuracies in last.items():
            spread = f"{min(accuracies):.4f} to {max(accuracies):.4f}"
            print(
                f"{args.dataset} / {args.layer}, {name}: after {args.epochs} epochs, seeds "
                f"{' '.join(map(str, args.seeds))}: {spread}, mean {np.mean(accuracies):.4f}"
            )


if __name__ == "__main__":
    main()

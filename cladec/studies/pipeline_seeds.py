"""Evaluation accuracies of ClaDec from other seeds of the whole pipeline: classifier, decoders, evaluation.

The reference run is one run: one classifier, one decoder per alpha, one
evaluation classifier each. A cell of ours that differs from it may be our
implementation or the spread between runs. This script reruns one layer's
pipeline with other seeds (``explain_layer(..., seed=s)`` seeds the explained
classifier and the decoders; the evaluation classifiers are seeded with ``s``
too) and prints, per seed, the classifier's test accuracy and per alpha the
test reconstruction loss and the evaluation accuracy against the reference
run's. Seed 0 is the evaluation's own run (its models come from the cache or
the shipped bundle). The results page quotes its figures.

Run: ``python -m cladec.studies.pipeline_seeds fashion_mnist my_dense --alphas 0.25 0.99 --seeds 1``
(every model goes through the model cache, so an interrupted run resumes; on
a 2-core machine one seed of Fashion-MNIST my_dense took about 25 minutes:
the classifier, two decoders side by side and their two evaluation
classifiers side by side; ``--profile quick`` is a smoke run of a few minutes).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    """Run the evaluation pipeline under several seeds and print each against the reference (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("mnist", "fashion_mnist"))
    parser.add_argument("layer", choices=("my_dense", "my_conv"))
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.25, 0.99])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument(
        "--profile", default="full", help="the models' profile (quick: a smoke run in minutes)"
    )
    args = parser.parse_args()

    import cladec
    from cladec.lesson import explain_layer
    from cladec.metrics import evaluation_accuracies, loss_terms
    from cladec.studies.reference import load_reference_table, rows_from_reference

    profile = cladec.get_profile(args.profile)
    reference = {
        (row.model, row.alpha): row
        for row in rows_from_reference(load_reference_table())
        if (row.dataset, row.layer) == (args.dataset, args.layer)
    }
    for seed in args.seeds:
        start = time.perf_counter()
        layer = explain_layer(
            args.dataset,
            args.layer,
            alphas=args.alphas,
            refae=False,
            profile=profile,
            seed=seed,
            verbose=0,
        )
        data, classifier = layer.data, layer.trained_classifier.model
        results = evaluation_accuracies(
            [
                {
                    "x_hat_train": e.reconstruct(data.x_train),
                    "x_hat_test": e.reconstruct(data.x_test),
                    "label": f"evaluation classifier, pipeline seed {seed}, alpha {alpha:g}",
                }
                for alpha, e in layer.cladec.items()
            ],
            data.y_train,
            data.y_test,
            profile=profile,
            seed=seed,
            verbose=0,
        )
        ref_classifier = reference.get(("classifier", None))
        print(
            f"{args.dataset} / {args.layer}, {args.profile} profile, seed {seed}: classifier test "
            f"accuracy {layer.trained_classifier.test_accuracy:.4f} (reference "
            f"{ref_classifier.evaluation_accuracy:.4f}); {time.perf_counter() - start:.0f} s"
        )
        for (alpha, explainer), result in zip(layer.cladec.items(), results):
            ref = reference.get(("cladec", alpha))
            terms = loss_terms(explainer, data.x_test, data.y_test, classifier, alpha)
            print(
                f"  seed {seed}, alpha {alpha:g}: reconstruction loss "
                f"{terms['reconstruction_loss']:.1f} (reference {ref.reconstruction_loss:.1f}); "
                f"evaluation accuracy {result['accuracy']:.4f} (reference "
                f"{ref.evaluation_accuracy:.4f}, {result['accuracy'] - ref.evaluation_accuracy:+.4f})"
            )


if __name__ == "__main__":
    main()

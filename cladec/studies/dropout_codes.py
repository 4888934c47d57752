"""ClaDec on my_dense with the reference's dropout: what it does to the decoders and their evaluation.

The reference run called the encoder in training mode, so the Dropout(0.5)
in front of ``my_dense`` was active while its decoders trained: every batch
they saw codes computed from half the flattened features, at random, and
they were scored on complete codes. ``cladec`` encodes once, in inference
mode. This script trains the decoders of the given alphas the reference's
way (a fresh dropout mask per image and batch, in front of a frozen copy of
``my_dense``; the same initial weights, batches and recipe as the ``cladec``
decoders), then prints, per alpha, the test reconstruction loss of both
kinds of decoder (both scored on complete codes) and the evaluation accuracy
of the dropout-trained ones (evaluation classifiers trained side by side,
seed 0, as the evaluation trains its own), each against the reference run's.
The results page quotes its figures.

Run: ``python -m cladec.studies.dropout_codes fashion_mnist --alphas 0.25 0.99 1``
(the classifier and the ``cladec`` decoders come from the model cache or the
shipped models, or train first; on a 2-core machine the dropout decoders
take about a minute an epoch, the evaluation classifiers a minute and a half
an epoch side by side; ``--profile quick`` is a smoke run of a few minutes).
"""

from __future__ import annotations

import argparse
import os
import time

from ..exceptions import InvalidInputError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LAYER = "my_dense"


def main() -> None:
    """Train the dropout-code decoders and print their figures against the reference's (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.25, 0.99, 1.0])
    parser.add_argument(
        "--profile", default="full", help="the models' profile (quick: a smoke run in minutes)"
    )
    args = parser.parse_args()

    import keras

    import cladec
    from cladec._inputs import as_images
    from cladec.lesson import explain_layer
    from cladec.metrics import evaluation_accuracies
    from cladec.reconstructors import fit_reconstructors
    from cladec.studies.reference import load_reference_table, rows_from_reference
    from cladec.training import predict_batched

    profile = cladec.get_profile(args.profile)
    # The cladec decoders (inference-mode codes), for the reconstruction loss beside them.
    layer = explain_layer(
        args.dataset, LAYER, alphas=args.alphas, refae=False, profile=profile, verbose=0
    )
    data, classifier = layer.data, layer.trained_classifier.model
    dense = classifier.get_layer(LAYER)
    dropout = classifier.get_layer("dropout")
    if dropout.output is not dense.input:
        raise InvalidInputError(f"{LAYER} must follow the classifier's dropout layer directly")
    reference = {
        (row.model, row.alpha): row
        for row in rows_from_reference(load_reference_table())
        if (row.dataset, row.layer) == (args.dataset, LAYER)
    }

    explainers = [cladec.ClaDec(classifier, LAYER, alpha=a) for a in args.alphas]
    images = as_images(data.x_train, explainers[0].image_shape)
    flat = predict_batched(keras.Model(classifier.input, dropout.input), images)
    members = [_dropout_member(e, dense, flat.shape[1:]) for e in explainers]
    start = time.perf_counter()
    fit_reconstructors(
        members,
        flat,
        images,
        data.y_train,
        alphas=args.alphas,
        classifier=classifier,
        loss_scale=explainers[0].loss_scale,
        epochs=profile.decoder_epochs,
        batch_size=profile.decoder_batch_size,
        learning_rate=explainers[0].learning_rate,
        epsilon=explainers[0].epsilon,
        seed=0,
    )
    print(
        f"{args.dataset} / {LAYER}, {args.profile} profile: {len(members)} decoders trained on "
        f"dropout codes side by side, {profile.decoder_epochs} epochs on {len(images)} images "
        f"in {time.perf_counter() - start:.0f} s"
    )

    start = time.perf_counter()
    results = evaluation_accuracies(
        [
            {
                "x_hat_train": e.reconstruct(data.x_train),
                "x_hat_test": e.reconstruct(data.x_test),
                "label": f"evaluation classifier, dropout codes, alpha {e.alpha:g}",
            }
            for e in explainers
        ],
        data.y_train,
        data.y_test,
        profile=profile,
        verbose=0,
    )
    print(
        f"{len(results)} evaluation classifiers ({results[0]['epochs']} epochs, seed 0) "
        f"in {time.perf_counter() - start:.0f} s"
    )
    _report(explainers, results, reference, layer, classifier)


def _dropout_member(explainer, dense, flat_shape):
    """A decoder behind a fresh dropout and a frozen copy of ``my_dense``: the reference's codes.

    The decoders read my_dense of the features in front of the dropout; only the
    dropout runs in training mode, as in the reference (the classifier was frozen,
    so its BatchNorm layers used their running statistics there too).
    """
    import keras

    decoder = explainer.build_decoder(0)
    inputs = keras.Input(flat_shape)
    codes = keras.layers.Dropout(0.5)(inputs)
    frozen = keras.layers.Dense(dense.units, activation=dense.activation, trainable=False)
    codes = frozen(codes)
    frozen.set_weights(dense.get_weights())
    explainer.decoder = decoder
    return keras.Model(inputs, decoder(codes))


def _report(explainers, results, reference, layer, classifier):
    from cladec.metrics import loss_terms

    data = layer.data
    for explainer, result in zip(explainers, results):
        alpha = explainer.alpha
        ref = reference.get(("cladec", alpha))
        ours = loss_terms(explainer, data.x_test, data.y_test, classifier, alpha)
        plain = loss_terms(layer.cladec[alpha], data.x_test, data.y_test, classifier, alpha)
        ref_rec = f"{ref.reconstruction_loss:.1f}" if ref else "-"
        ref_acc = f"{ref.evaluation_accuracy:.4f}" if ref else "-"
        gap = f" ({result['accuracy'] - ref.evaluation_accuracy:+.4f})" if ref else ""
        print(
            f"  alpha {alpha:g}: reconstruction loss {ours['reconstruction_loss']:.1f} with "
            f"dropout codes, {plain['reconstruction_loss']:.1f} with complete codes (reference "
            f"{ref_rec}); evaluation accuracy {result['accuracy']:.4f} with dropout codes"
            f"{gap}, reference {ref_acc}"
        )


if __name__ == "__main__":
    main()

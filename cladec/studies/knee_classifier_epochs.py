"""The MNIST my_conv knee at alpha 0.99 against the explained classifier's training epochs.

At alpha 0.99 the ``full`` profile's MNIST ``my_conv`` decoder ends about 26 %
above the reference run's test reconstruction loss, the one decoder cell of
alpha <= 0.99 outside the 15 % tolerance. This script tells run-to-run spread
from cause: for each classifier length it trains (or loads from the model
cache) the perfect MNIST classifier for that many epochs, then trains one
alpha-0.99 decoder per initialisation seed side by side (the same batches,
in the order of seed 0, the ``full`` profile's decoder epochs and batch), and
prints each decoder's test losses against the reference's. Initialisation 0
is the decoder the ``full`` profile trains. The results page quotes its
figures.

Run: ``python -m cladec.studies.knee_classifier_epochs --classifier-epochs 6 10``
(on a 2-core machine four decoders took 24 to 26 minutes per classifier
length, plus 7 to 22 minutes for a classifier that is not cached yet).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ALPHA = 0.99
LAYER = "my_conv"


def main() -> None:
    """Train the classifier for each length and print its alpha-0.99 decoders' losses (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier-epochs", type=int, nargs="+", default=[6, 10])
    parser.add_argument("--inits", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--images", type=int, default=None, help="train on the first N images (default: all)"
    )
    parser.add_argument("--test-images", type=int, default=None)
    parser.add_argument("--decoder-epochs", type=int, default=None, help="default: the profile's")
    args = parser.parse_args()

    import cladec
    from cladec._inputs import as_images
    from cladec.metrics import loss_terms
    from cladec.reconstructors import fit_reconstructors
    from cladec.studies.reference import RECONSTRUCTION_REL_TOL, alpha_header, load_reference_table

    profile = cladec.get_profile("full")
    decoder_epochs = args.decoder_epochs or profile.decoder_epochs
    data = cladec.load_dataset("mnist")
    if args.images or args.test_images:
        data = data.subset(args.images or len(data.x_train), args.test_images or len(data.x_test))
    (reference,) = [
        row
        for row in load_reference_table()
        if (row["dataset"], row["layer"], row["eval"]) == ("mnist", LAYER, "reconstruction_loss")
    ]
    target = reference[alpha_header(ALPHA)]
    print(
        f"MNIST {LAYER}, alpha {ALPHA}: reference test reconstruction loss {target:.3f}, "
        f"tolerance +{RECONSTRUCTION_REL_TOL * 100:g} % = "
        f"{(1 + RECONSTRUCTION_REL_TOL) * target:.3f}; decoders {decoder_epochs} epochs at batch "
        f"{profile.decoder_batch_size}, {len(data.x_train)} training images"
    )
    for epochs in args.classifier_epochs:
        trained = cladec.obtain_classifier(
            "perfect", data, profile=profile, epochs=epochs, verbose=0
        )
        classifier = trained.model
        explainers = [cladec.ClaDec(classifier, LAYER, alpha=ALPHA) for _ in args.inits]
        images = as_images(data.x_train, explainers[0].image_shape)
        codes = explainers[0].layer_codes(images)
        # Not ClaDec.fit: its seed sets both the initial weights and the batch
        # order, and here only the initial weights may differ between decoders.
        decoders = [e.build_decoder(seed) for e, seed in zip(explainers, args.inits)]
        start = time.perf_counter()
        # seed=0: every decoder sees the batches of the full profile's decoder (seed 0).
        fit_reconstructors(
            decoders,
            codes,
            images,
            data.y_train,
            alphas=[ALPHA] * len(decoders),
            classifier=classifier,
            loss_scale=explainers[0].loss_scale,
            epochs=decoder_epochs,
            learning_rate=explainers[0].learning_rate,
            epsilon=explainers[0].epsilon,
            batch_size=profile.decoder_batch_size,
            seed=0,
            log=None,
        )
        seconds = time.perf_counter() - start
        print(
            f"classifier {epochs} epochs: test accuracy {trained.test_accuracy:.4f}; "
            f"{len(decoders)} decoders trained side by side in {seconds:.0f} s"
        )
        losses = []
        for explainer, decoder, seed in zip(explainers, decoders, args.inits):
            explainer.decoder = decoder
            terms = loss_terms(explainer, data.x_test, data.y_test, classifier, ALPHA)
            losses.append(terms["reconstruction_loss"])
            print(
                f"  init {seed}: reconstruction {terms['reconstruction_loss']:.3f} "
                f"({terms['reconstruction_loss'] / target - 1:+.0%}), classification "
                f"{terms['classification_loss']:.4f}"
            )
        print(
            f"  classifier {epochs} epochs: reconstruction {min(losses):.3f} to {max(losses):.3f}, "
            f"mean {statistics.fmean(losses):.3f} ({statistics.fmean(losses) / target - 1:+.0%})"
        )


if __name__ == "__main__":
    main()

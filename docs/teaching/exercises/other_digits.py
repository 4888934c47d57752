# Exercise 4: eight other test digits in the alpha explorer.
from cladec.explorer import AlphaExplorer
from cladec.lesson import explain_layer

run = explain_layer("mnist", "my_dense", profile="full", seed=0, verbose=0)
shown = run.pick(n_right=3, n_wrong=5, seed=1)
result = run.explain(shown.images)
print("true digits:     ", shown.y_true.tolist())
print("classifier reads:", shown.y_pred.tolist())
AlphaExplorer(result, **shown.titles)  # in a notebook, the last line draws the explorer

# Exercise 5: does the faithfulness ranking of tutorial 05 hold on 100 other digits?
import numpy as np

from cladec.lesson import explain_layer
from cladec.saliency import comparison, heatmaps

run = explain_layer("mnist", "my_dense", alphas=(0.99,), profile="full", seed=0, verbose=0)
x = run.data.x_test[200:300, ..., None] / np.float32(255)
cladec_maps = {"ClaDec, true labels": (run.cladec[0.99], run.refae, "magnitude")}
maps = comparison.method_maps(run.classifier, x, cladec=cladec_maps, layer="my_conv")
rows, _ = comparison.faithfulness_table(run.classifier, x, maps, steps=20)
for mode in ("deletion", "insertion"):
    # deletion: a faithful map makes the score fall fast (small area); insertion: rise fast (large)
    ranked = sorted(
        (r for r in rows if r["mode"] == mode), key=lambda r: r["area"], reverse=mode == "insertion"
    )
    print(f"{mode}, best first (mean area +- standard error, 100 digits):")
    for r in ranked:
        print(f"  {heatmaps.label_of(r['method']):<24} {r['area']:.3f} +- {r['sem']:.3f}")

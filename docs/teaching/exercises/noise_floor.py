# Exercise 3: is ClaDec's difference from RefAE larger than two RefAEs' difference?
from cladec.lesson import explain_layer

run = explain_layer("mnist", "my_dense", alphas=(0.99,), profile="full", seed=0, verbose=0)
x = run.data.x_test
reference = run.refae.reconstruct(x)
second = run.refae_with_seed(1, verbose=0).reconstruct(x)
cladec = run.cladec[0.99].reconstruct(x)
print(f"mean |RefAE seed 1 - RefAE| per pixel: {abs(second - reference).mean():.4f}")
print(f"mean |ClaDec 0.99 - RefAE| per pixel:  {abs(cladec - reference).mean():.4f}")

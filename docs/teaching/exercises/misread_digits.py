# Exercise 2: are misread digits drawn as the classifier's answer or as the truth?
from cladec import metrics
from cladec.lesson import explain_layer

run = explain_layer("mnist", "my_dense", alphas=(0.0, 0.99), profile="full", seed=0, verbose=0)
sources = {"RefAE": run.refae, "alpha 0": run.cladec[0.0], "alpha 0.99": run.cladec[0.99]}
for name, source in sources.items():
    read = metrics.misread_readings(run.classifier, run.data.x_test, source, run.data.y_test)
    print(
        f"{name:<11} of {read['n_misread']} misread digits: as the prediction "
        f"{read['as_predicted']:6.1%}, as the true digit {read['as_true']:6.1%}"
    )

"""Train ClaDec, RefAE and a classifier on one CPU device, then data-parallel on two.

Run as a script by tests/test_distributed.py: the two logical devices must be
configured before TensorFlow starts, which a test process cannot undo.
Prints one line ``RESULT {json}`` with every epoch's loss of both runs.
"""

import json

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import cladec
from cladec.training import fit_classifier, seed_everything

data = cladec.load_dataset("mnist").subset(512, 128)
x = data.x_train[..., None] / np.float32(255)
seed_everything(0)
clf = cladec.build_classifier("perfect")
fit_classifier(clf, x, data.y_train, epochs=1, batch_size=64)
# 512 images at batch 64: every batch splits evenly over the two replicas
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
fit = {"epochs": 2, "batch_size": 64, "cache": False, "verbose": 0}
out = {"replicas": strategy.num_replicas_in_sync}


def runs():
    c = cladec.ClaDec(clf, "my_dense", alpha=0.5).fit(data.x_train, data.y_train, **fit)
    r = cladec.RefAE(clf, "my_conv").fit(data.x_train, **fit)
    seed_everything(0)
    m = cladec.build_classifier("diff")
    h = fit_classifier(m, x, data.y_train, epochs=2, batch_size=64)
    return {
        "cladec": c.history.epochs["total"],
        "refae": r.history.epochs["total"],
        "classifier": h.epochs["loss"],
        "mirrored": type(m.weights[0].value).__name__,
    }


out["one"] = runs()
with strategy.scope():
    out["two"] = runs()
print("RESULT", json.dumps(out))

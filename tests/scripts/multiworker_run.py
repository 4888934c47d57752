"""Train a classifier, a RefAE and a ClaDec alpha sweep; under MultiWorkerMirroredStrategy when TF_CONFIG is set.

Run as a script by tests/test_multiworker.py: once per worker of a two-worker
cluster on 127.0.0.1 (``TF_CONFIG`` names the task), and once alone without
``TF_CONFIG`` (no strategy), the one-process run the losses are compared with.
A cluster needs one process per worker, which a test process cannot be.

``--store DIR`` is this process's model store. Rounds (``--rounds 3``):

1. the classifier, the RefAE and the sweep train; the chief stores them;
2. the sweep again: the chief's store holds it and the other worker's does
   not, so both must agree to train it again, or the one that trains alone
   waits forever for the other's gradients;
3. the sweep again from ``--shared DIR`` (the chief's store, as on a shared
   filesystem): both workers find it and load it.

Prints one line ``RESULT {json}``.
"""

import argparse
import json
import os
import time

import numpy as np
import tensorflow as tf

# Two workers share a 2-core machine: one thread each for TensorFlow's ops.
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

import cladec  # noqa: E402
from cladec.store.keys import fingerprint_model  # noqa: E402
from cladec.training import fit_classifier, seed_everything  # noqa: E402

ALPHAS = [0.0, 0.5, 0.99]

parser = argparse.ArgumentParser()
parser.add_argument("--store", required=True)
parser.add_argument("--shared")
parser.add_argument("--rounds", type=int, default=1)
args = parser.parse_args()

profile = cladec.get_profile()  # quick: 2 epochs at batch 64
# 512 images at batch 64: every batch splits evenly over the two workers
data = cladec.load_dataset("mnist").subset(512, 128)
x = data.x_train[..., None] / np.float32(255)
if "TF_CONFIG" in os.environ:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
else:
    strategy = tf.distribute.get_strategy()  # the default: one process, no distribution

# The explained classifier trains outside the strategy, the same in every process,
# so the decoders of both runs explain the same network (as distributed_run.py does).
seed_everything(0)
explained = cladec.build_classifier("perfect")
fit_classifier(explained, x, data.y_train, epochs=1, batch_size=64)
store = cladec.ModelStore(args.store, pretrained=False)
sweep = {"epochs": profile.decoder_epochs, "batch_size": profile.decoder_batch_size, "verbose": 0}


def fit_sweep(cache):
    start = time.perf_counter()
    fitted = cladec.fit_alpha_sweep(
        explained, "my_dense", ALPHAS, data.x_train, data.y_train, cache=cache, **sweep
    )
    return {
        "sources": [fitted[a].record.source for a in ALPHAS],
        "losses": [fitted[a].record.history.epochs["total"] for a in ALPHAS],
        "weights": [fingerprint_model(fitted[a].decoder) for a in ALPHAS],
        "seconds": time.perf_counter() - start,
    }


out = {"replicas": strategy.num_replicas_in_sync}
with strategy.scope():
    start = time.perf_counter()
    trained = cladec.obtain_classifier("diff", data, cache=store, verbose=0)
    out["classifier"] = {
        "source": trained.record.source,
        "losses": trained.record.history.epochs["loss"],
        "weights": fingerprint_model(trained.model),
        "mirrored": type(trained.model.weights[0].value).__name__,
        "seconds": time.perf_counter() - start,
    }
    refae_epochs, refae_batch = profile.refae_settings()
    refae = cladec.RefAE(explained, "my_conv").fit(
        data.x_train, epochs=refae_epochs, batch_size=refae_batch, cache=store, verbose=0
    )
    out["refae"] = {"source": refae.record.source, "losses": refae.history.epochs["total"]}
    out["rounds"] = [fit_sweep(store)]
    if args.rounds >= 2:
        out["rounds"].append(fit_sweep(store))
    if args.rounds >= 3:
        out["rounds"].append(fit_sweep(cladec.ModelStore(args.shared, pretrained=False)))
print("RESULT", json.dumps(out), flush=True)

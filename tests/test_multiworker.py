"""Under tf.distribute.MultiWorkerMirroredStrategy, two workers on 127.0.0.1 train as one
process does, and only the chief writes the model store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from cladec import _cluster
from cladec.history import TrainingHistory
from cladec.store import ModelRequest, ModelStore, Trained, obtain

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

SCRIPT = Path(__file__).parent / "scripts" / "multiworker_run.py"
ALPHAS = 3  # the script's sweep
STORED = ALPHAS + 2  # and the classifier and the RefAE


def _free_ports(count: int) -> list[int]:
    """Ports nothing listens on now; each socket stays bound until all are picked, so they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _start(folder: Path, name: str, args: list[str], tf_config: dict | None) -> subprocess.Popen:
    env = {**os.environ, "CLADEC_PROFILE": "quick", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    # the child writes into its own copies of the files: ours close at once
    with open(folder / f"{name}.out", "w") as out, open(folder / f"{name}.err", "w") as err:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), *args], stdout=out, stderr=err, env=env
        )


def _wait(processes: dict, timeout: float) -> None:
    """Wait for every process; the first failure or the deadline ends (kills) them all.

    A worker whose peer died waits for its collectives, so it is killed too.
    """
    deadline = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in processes.values()):
            if any(p.poll() not in (None, 0) for p in processes.values()):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def _results(folder: Path, processes: dict) -> dict:
    failed = [
        f"{name} exited with {p.returncode}:\n{(folder / f'{name}.err').read_text()[-2000:]}"
        for name, p in processes.items()
        if p.returncode != 0
    ]
    assert not failed, "\n\n".join(failed)
    results = {}
    for name in processes:
        out = (folder / f"{name}.out").read_text().splitlines()
        [line] = [line for line in out if line.startswith("RESULT ")]
        results[name] = json.loads(line.removeprefix("RESULT "))
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist):
    # `mnist` has put the dataset into the session's CLADEC_HOME: the workers only read it
    folder = tmp_path_factory.mktemp("multiworker")
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = {
        f"worker{i}": _start(
            folder,
            f"worker{i}",
            ["--store", str(folder / f"store{i}"), "--shared", str(folder / "store0")]
            + ["--rounds", "3"],
            {"cluster": cluster, "task": {"type": "worker", "index": i}},
        )
        for i in range(2)
    }
    # The one-process run meanwhile: the three start-ups of TensorFlow overlap and the
    # workers often wait for each other (the fixture took 30 s on our idle 2 cores,
    # 44 s with the runs one after the other).
    processes["alone"] = _start(folder, "alone", ["--store", str(folder / "alone")], None)
    _wait(processes, timeout=300)
    return {**_results(folder, processes), "folder": folder}


def test_the_two_workers_form_one_cluster(runs):
    for worker in ("worker0", "worker1"):
        assert runs[worker]["replicas"] == 2
        assert runs[worker]["classifier"]["mirrored"] == "MirroredVariable"
    assert runs["alone"]["replicas"] == 1


def test_sweep_losses_match_one_process(runs):
    # The decoders have no dropout or batch statistics: each worker takes half of
    # every batch and the gradients are summed, the same step up to float rounding.
    alone = runs["alone"]["rounds"][0]["losses"]
    for worker in ("worker0", "worker1"):
        np.testing.assert_allclose(runs[worker]["rounds"][0]["losses"], alone, rtol=1e-5)


def test_refae_losses_match_one_process(runs):
    # my_conv's encoder has BatchNormalization, synchronised over the workers.
    alone = runs["alone"]["refae"]["losses"]
    for worker in ("worker0", "worker1"):
        assert runs[worker]["refae"]["source"] == "trained"
        np.testing.assert_allclose(runs[worker]["refae"]["losses"], alone, rtol=1e-3)


def test_classifier_trains_data_parallel(runs):
    # Dropout draws other masks on each worker, so the losses agree only roughly.
    one, two = runs["alone"]["classifier"]["losses"], runs["worker0"]["classifier"]["losses"]
    assert two[-1] < two[0]
    np.testing.assert_allclose(two, one, rtol=0.1)


def test_both_workers_train_and_return_the_same_models(runs):
    chief, other = runs["worker0"], runs["worker1"]
    assert chief["classifier"]["source"] == other["classifier"]["source"] == "trained"
    assert chief["classifier"]["weights"] == other["classifier"]["weights"]
    assert chief["rounds"][0]["sources"] == other["rounds"][0]["sources"] == ["trained"] * ALPHAS
    assert chief["rounds"][0]["weights"] == other["rounds"][0]["weights"]


def test_only_the_chief_writes_the_store(runs):
    folder = runs["folder"]
    assert not (folder / "store1").exists(), "the worker that is not the chief wrote its store"
    entries = sorted((folder / "store0").iterdir())
    # the decoders, the classifier and the RefAE, each once; no temporary leftovers
    assert len(entries) == STORED, [e.name for e in entries]
    for entry in entries:
        assert not entry.name.startswith("."), entry.name
        assert sorted(p.name for p in entry.iterdir()) == ["meta.json", "model.weights.h5"]


def test_a_model_one_worker_lacks_trains_on_both(runs):
    # Round 2: the chief's store holds the sweep, the other worker's does not. Had the
    # chief loaded it, the other would have waited forever for its gradients.
    first, again = runs["worker0"]["rounds"][0], runs["worker0"]["rounds"][1]
    for worker in ("worker0", "worker1"):
        assert runs[worker]["rounds"][1]["sources"] == ["trained"] * ALPHAS
    np.testing.assert_allclose(again["losses"], first["losses"], rtol=1e-6)
    assert runs["worker1"]["rounds"][1]["weights"] == again["weights"]


def test_a_shared_store_serves_both_workers(runs):
    # Round 3: both read the chief's folder, as on a shared filesystem, and load the sweep.
    for worker in ("worker0", "worker1"):
        served = runs[worker]["rounds"][2]
        assert served["sources"] == ["cache"] * ALPHAS
        assert served["weights"] == runs["worker0"]["rounds"][1]["weights"]


# The chief-only rule alone, in this process: TF_CONFIG names the task when no
# strategy's cluster resolver does.


def _tf_config(monkeypatch, task_type: str, index: int, chief: bool = False) -> None:
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    if chief:
        cluster["chief"] = ["127.0.0.1:3"]
    config = {"cluster": cluster, "task": {"type": task_type, "index": index}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))


def _tiny_model():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize(
    "task_type, index, has_chief, chief",
    [
        ("worker", 0, False, True),
        ("worker", 1, False, False),
        ("chief", 0, True, True),
        ("worker", 0, True, False),
        ("evaluator", 0, True, False),
    ],
)
def test_the_chief_is_the_chief_task_or_else_worker_0(
    monkeypatch, task_type, index, has_chief, chief
):
    _tf_config(monkeypatch, task_type, index, has_chief)
    assert _cluster.is_chief() is chief


def test_a_process_outside_any_cluster_is_its_own_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert _cluster.is_chief() and _cluster.worker_count() == 1


def test_the_strategys_cluster_resolver_names_the_task():
    spec = tf.train.ClusterSpec({"worker": ["127.0.0.1:1", "127.0.0.1:2"]})

    class Strategy:  # a MultiWorkerMirroredStrategy's cluster, without starting its servers
        cluster_resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            spec, task_type="worker", task_id=1
        )

    assert _cluster.worker_count(Strategy()) == 2
    assert not _cluster.chief_task(*_cluster._cluster_of(Strategy()))


def test_a_worker_that_is_not_the_chief_writes_nothing(tmp_path, monkeypatch):
    record = tmp_path / "used.jsonl"
    monkeypatch.setenv("CLADEC_RECORD_MODELS", str(record))
    _tf_config(monkeypatch, "worker", 1)
    store = ModelStore(tmp_path / "store", pretrained=False)
    fields = {"kind": "test", "seed": 1}
    assert store.save(fields, _tiny_model(), train_seconds=1.0) is None

    def train(missing):
        return [Trained(_tiny_model(), TrainingHistory({"loss": [1.0]}, 1.0)) for _ in missing]

    request = ModelRequest({"kind": "test", "seed": 2}, _tiny_model, "a test model")
    [(model, origin)] = obtain(store, [request], train)
    assert origin.source == "trained" and model is not None  # it trains, and returns the model
    assert not store.root.exists() and not record.exists()

    _tf_config(monkeypatch, "worker", 0)  # the chief writes
    assert store.save(fields, _tiny_model(), train_seconds=1.0) == store.path_for(fields)
    assert [p.name for p in store.root.iterdir()] == [store.path_for(fields).name]


def test_a_worker_that_is_not_the_chief_keeps_a_damaged_entry(tmp_path, monkeypatch):
    # It may be the entry the chief is replacing right now, in a folder both read.
    store = ModelStore(tmp_path, pretrained=False)
    fields = {"kind": "test", "seed": 1}
    folder = store.path_for(fields)
    folder.mkdir()
    meta = {"key": ModelStore.key(fields), "fields": fields, "weights_sha256": "0" * 64}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "model.weights.h5").write_bytes(b"damaged")
    _tf_config(monkeypatch, "worker", 1)
    with pytest.warns(RuntimeWarning, match="only the cluster's chief writes the store"):
        assert store.load(fields, _tiny_model) is None
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "model.weights.h5"]

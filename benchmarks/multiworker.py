"""Training under MultiWorkerMirroredStrategy: one process versus two local workers on 127.0.0.1.

Times a ClaDec decoder (``my_dense``, alpha 0.99) and the ``perfect``
classifier, each on ``--images`` MNIST digits for ``--epochs`` epochs at a
global batch of ``--batch-size`` (each worker takes half of every batch),
once in one process with every core, once as two worker processes with
``TF_CONFIG`` naming a cluster on 127.0.0.1, each with one thread per core
it gets. The runs are interleaved (one process first in odd pairs, the two
workers first in even ones) and repeated ``--pairs`` times; the medians and
the speed-up (one process's time / the two workers') are printed. Both
workers run on this one machine, so this is not a figure for two machines:
it shows what the cluster's synchronisation costs where nothing is gained.

Run: ``python benchmarks/multiworker.py [--images 4096] [--epochs 2] [--pairs 3]``.
Training is timed inside the processes (``fit`` only, the slower worker
counts); the whole process, start-up and cluster set-up included, from outside.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _train(args) -> None:
    """One process's part (``--run``): train both models, print ``RESULT {json}``."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    # A cluster's collectives must be set up before TensorFlow runs any operation.
    multi = "TF_CONFIG" in os.environ
    strategy = (
        tf.distribute.MultiWorkerMirroredStrategy() if multi else tf.distribute.get_strategy()
    )
    import numpy as np

    import cladec
    from cladec.training import fit_classifier, seed_everything

    data = cladec.load_dataset("mnist")
    x = data.x_train[: args.images, ..., None] / np.float32(255)
    y = data.y_train[: args.images]
    # the explained classifier, the same in every process, trained outside any strategy
    seed_everything(0)
    explained = cladec.build_classifier("perfect")
    fit_classifier(explained, x[:1024], y[:1024], epochs=1, batch_size=64)
    seconds = {}
    with strategy.scope():
        start = time.perf_counter()
        cladec.ClaDec(explained, "my_dense", alpha=0.99).fit(
            x, y, epochs=args.epochs, batch_size=args.batch_size, cache=False, verbose=0
        )
        seconds["decoder"] = time.perf_counter() - start
        seed_everything(0)
        model = cladec.build_classifier("perfect")
        start = time.perf_counter()
        fit_classifier(model, x, y, epochs=args.epochs, batch_size=args.batch_size)
        seconds["classifier"] = time.perf_counter() - start
    print("RESULT", json.dumps({"replicas": strategy.num_replicas_in_sync, **seconds}), flush=True)


def _launch(args, tf_configs: list[dict | None], threads: int) -> dict:
    """Run one process per TF_CONFIG (``None``: alone); return the slowest one's seconds.

    The first process to fail, or the deadline, ends them all: a worker whose
    peer died would wait for it.
    """
    command = [sys.executable, os.path.abspath(__file__), "--run", "--threads", str(threads)]
    command += ["--images", str(args.images), "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size)]
    with tempfile.TemporaryDirectory(prefix="cladec-bench-") as folder:
        start, processes = time.perf_counter(), []
        for i, config in enumerate(tf_configs):
            env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
            if config is not None:
                env["TF_CONFIG"] = json.dumps(config)
            with open(f"{folder}/{i}.out", "w") as out, open(f"{folder}/{i}.err", "w") as err:
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=err))
        try:
            while any(p.poll() is None for p in processes):
                if any(p.poll() not in (None, 0) for p in processes):
                    break
                if time.perf_counter() - start > args.timeout:
                    raise SystemExit(f"no result after {args.timeout:.0f} s")
                time.sleep(0.1)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait()
        wall = time.perf_counter() - start
        results = []
        for i, process in enumerate(processes):
            if process.returncode != 0:
                err = Path(f"{folder}/{i}.err").read_text()
                raise SystemExit(f"training process {i} failed:\n{err[-3000:]}")
            out = Path(f"{folder}/{i}.out").read_text()
            [line] = [line for line in out.splitlines() if line.startswith("RESULT ")]
            results.append(json.loads(line.removeprefix("RESULT ")))
    slowest = {name: max(r[name] for r in results) for name in ("decoder", "classifier")}
    return {**slowest, "process": wall, "replicas": results[0]["replicas"]}


def _line(what: str, one: list[float], two: list[float]) -> str:
    a, b = statistics.median(one), statistics.median(two)
    return (
        f"{what}: one process {a:.1f} s, two workers {b:.1f} s (medians of {len(one)}), "
        f"speed-up {a / b:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096, help="training images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="global: split over workers")
    parser.add_argument("--pairs", type=int, default=3, help="one-process / two-worker pairs")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        _train(args)
        return
    if args.batch_size % 2:
        parser.error("--batch-size must be even: each worker takes half of every batch")

    cores = os.cpu_count() or 1
    print(
        f"machine: {platform.machine()}, {cores} cores, tensorflow {version('tensorflow')}, "
        f"keras {version('keras')}; one process with {cores} threads, two workers "
        f"with {max(1, cores // 2)} each, on 127.0.0.1",
        flush=True,
    )
    one, two = [], []
    for pair in range(args.pairs):
        ports = _free_ports(2)
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        configs = [{"cluster": cluster, "task": {"type": "worker", "index": i}} for i in range(2)]
        runs = [
            (one, lambda: _launch(args, [None], cores)),
            (two, lambda configs=configs: _launch(args, configs, max(1, cores // 2))),
        ]
        for results, run in runs if pair % 2 == 0 else runs[::-1]:
            results.append(run())
        assert one[-1]["replicas"] == 1 and two[-1]["replicas"] == 2
        print(
            f"  pair {pair + 1}: decoder {one[-1]['decoder']:.1f} / {two[-1]['decoder']:.1f} s, "
            f"classifier {one[-1]['classifier']:.1f} / {two[-1]['classifier']:.1f} s, "
            f"process {one[-1]['process']:.1f} / {two[-1]['process']:.1f} s (one / two)"
        )
    setting = f"{args.images} images, {args.epochs} epochs, batch {args.batch_size}"
    print(
        _line(
            f"ClaDec decoder (my_dense, alpha 0.99, {setting})",
            [r["decoder"] for r in one],
            [r["decoder"] for r in two],
        )
    )
    print(
        _line(
            f"classifier (perfect, {setting})",
            [r["classifier"] for r in one],
            [r["classifier"] for r in two],
        )
    )
    print(
        _line(
            "whole run (start-up, both trainings)",
            [r["process"] for r in one],
            [r["process"] for r in two],
        )
    )


if __name__ == "__main__":
    main()

"""An interrupted ``reproduce`` run: whole files only, and a resume that retrains nothing it finished.

A real process trains two (dataset, layer) pairs on a tiny slice of the real
MNIST (quick profile, 300 training / 100 test images) and is killed once the
first pair's results are on disk. The rerun with ``--resume`` keeps that
pair; on a machine whose cache lacks every model, it still keeps both.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cladec.config import models_dir
from cladec.store import ModelStore
from cladec.studies.reference import read_reference_csv
from cladec.studies.reproduce import COMPARISON_FILE, REFERENCE_FILE, ROWS_FILE, run_reproduce
from cladec.studies.rows import read_rows_csv

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

REPO = Path(__file__).resolve().parents[1]
ALPHAS = [0, 99]
SETTINGS = dict(profile="quick", eval_images=100, n_train=300, n_test=100)
ARGV = [
    *("--datasets", "mnist", "--layers", "my_dense", "my_conv", "--alphas", "0", "99"),
    *("--profile", "quick", "--eval-images", "100", "--n-train", "300", "--n-test", "100"),
]


def _status(rows_file: Path) -> str:
    try:
        return read_rows_csv(rows_file, provenance=True)[1].get("status", "")
    except (OSError, ValueError):
        return ""


def _whole_files(out: Path) -> dict:
    """Every result file parses; nothing half-written is left beside them."""
    assert not [
        p.name for p in out.iterdir() if p.name not in (ROWS_FILE, REFERENCE_FILE, COMPARISON_FILE)
    ]
    rows, provenance = read_rows_csv(out / ROWS_FILE, provenance=True)
    read_reference_csv(out / REFERENCE_FILE)
    body = "".join(
        line
        for line in (out / COMPARISON_FILE).read_text().splitlines(True)
        if not line.startswith("#")
    )
    assert list(csv.DictReader(io.StringIO(body)))
    return {"rows": rows, "provenance": provenance}


@pytest.fixture()
def killed_run(tmp_path):  # one test uses it: a second would start a second process
    """Start the command, kill it (SIGKILL, as a machine that goes away) after the first pair."""
    home, out = tmp_path / "home", tmp_path / "results"
    env = {**os.environ, "CLADEC_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cladec", "reproduce", *ARGV, "--out", str(out), "--quiet"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600
    try:
        while not _status(out / ROWS_FILE).startswith("partial: 1 of 2"):
            if process.poll() is not None:
                pytest.fail(f"the run ended before it was killed:\n{process.stderr.read()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the first pair took over 10 minutes")
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return home, out


def test_killed_run_leaves_whole_files_and_resumes(killed_run, tmp_path, monkeypatch, capsys):
    home, out = killed_run
    left = _whole_files(out)
    assert {(r.dataset, r.layer) for r in left["rows"]} == {("mnist", "my_dense")}
    assert left["provenance"]["pair_models"].startswith("mnist/my_dense=")
    models_before = {e.key for e in ModelStore(models_dir(home)).entries()}

    # Resumed on the same machine: the finished pair is kept, not loaded or scored again.
    monkeypatch.setenv("CLADEC_HOME", str(home))
    resumed = run_reproduce(
        ["mnist"], ["my_dense", "my_conv"], ALPHAS, out=out, resume=True, verbose=0, **SETTINGS
    )
    assert [b.get("kept", False) for b in resumed.blocks] == [True, False]
    conv = resumed.blocks[1]
    assert conv["cached"] >= 1  # at least the classifier, trained for the first pair
    models_after = {e.key for e in ModelStore(models_dir(home)).entries()}
    assert models_before <= models_after and len(models_after - models_before) == conv["trained"]
    finished = _whole_files(out)
    assert finished["provenance"]["status"] == "complete"
    assert finished["provenance"]["kept_from_earlier_run"] == "mnist/my_dense"
    assert [(r.model, r.alpha) for r in finished["rows"] if r.layer == "my_dense"] == [
        (r.model, r.alpha) for r in left["rows"]
    ]
    assert resumed.trained == resumed.blocks[0]["trained"] + conv["trained"]
    assert int(finished["provenance"]["wall_time_seconds"]) >= int(
        left["provenance"]["wall_time_seconds"]
    )
    assert all(
        r.evaluation_accuracy is not None for r in finished["rows"] if r.model != "classifier"
    )

    # On another machine (an empty cache): both pairs are kept, nothing trains.
    monkeypatch.setenv("CLADEC_HOME", str(tmp_path / "other-machine"))
    again = run_reproduce(
        ["mnist"], ["my_dense", "my_conv"], ALPHAS, out=out, resume=True, verbose=0, **SETTINGS
    )
    assert all(b["kept"] for b in again.blocks)
    assert not ModelStore(models_dir(tmp_path / "other-machine")).entries()
    assert [r.total_loss for r in again.rows] == [r.total_loss for r in finished["rows"]]
    assert len(again.comparison) == len(resumed.comparison)

    # Other settings decide other numbers: nothing of the earlier run is kept.
    monkeypatch.setenv("CLADEC_HOME", str(home))
    other = run_reproduce(
        ["mnist"], ["my_dense"], ALPHAS, out=out, resume=True, evaluate_accuracy=False,
        verbose=1, **SETTINGS,
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert "is another run (evaluation_accuracy 'yes, classifiers trained" in printed
    assert not other.blocks[0].get("kept") and other.blocks[0]["trained"] == 0

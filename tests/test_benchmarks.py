"""The benchmark scripts still run and print their figures (on a tiny slice; the
figures themselves are only meaningful from a real run, see installation.rst)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_bench_training_prints_every_figure():
    out = _run("bench_training.py", "--images", "256", "--skip-full")
    assert re.search(r"classifier epoch \(perfect, batch 32\): [\d.]+ s for 256 images", out)
    assert re.search(r"classifier epoch \(diff, batch 32\): [\d.]+ s", out)
    assert re.search(r"one pass [\d.]+ s, five separate trainings [\d.]+ s, ratio \d\.\d\d", out)
    assert re.search(r"second epoch only: one pass [\d.]+ s, five separate [\d.]+ s, ratio", out)
    assert re.search(r"alphas > 0 alone: [\d.]+ s an epoch", out)


def test_knee_script_prints_each_decoder_against_the_reference():
    out = _run(
        "knee_classifier_epochs.py",
        *("--images", "256", "--test-images", "100", "--decoder-epochs", "1"),
        *("--classifier-epochs", "1", "--inits", "0", "1"),
    )
    assert "reference test reconstruction loss 2.784, tolerance +15 % = 3.202" in out
    assert re.search(r"classifier 1 epochs: test accuracy 0\.\d{4}; 2 decoders", out)
    assert re.search(r"init 0: reconstruction [\d.]+ \([+-]\d+%\), classification", out)
    assert re.search(r"init 1: reconstruction", out)
    assert re.search(r"reconstruction [\d.]+ to [\d.]+, mean [\d.]+", out)

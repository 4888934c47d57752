"""The benchmark scripts still run and print their figures (on a tiny slice; the
figures themselves are only meaningful from a real run, see installation.rst)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_training_prints_every_figure():
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_training.py"), "--images", "256", "--skip-full"],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert re.search(r"classifier epoch \(perfect, batch 32\): [\d.]+ s for 256 images", out)
    assert re.search(r"classifier epoch \(diff, batch 32\): [\d.]+ s", out)
    assert re.search(r"one pass [\d.]+ s, five separate trainings [\d.]+ s, ratio \d\.\d\d", out)
    assert re.search(r"second epoch only: one pass [\d.]+ s, five separate [\d.]+ s, ratio", out)
    assert re.search(r"alphas > 0 alone: [\d.]+ s an epoch", out)

"""The benchmark scripts still run and print their figures (on a tiny slice; the
figures themselves are only meaningful from a real run, see installation.rst)."""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
STUDY_DIR = Path(__file__).resolve().parents[1] / "cladec" / "studies"


STUDIES = (
    "knee_classifier_epochs.py",
    "eval_accuracy_epochs.py",
    "dropout_codes.py",
    "pipeline_seeds.py",
)


def _main_of(script: str):
    """The script's ``main``: a study module of the package, or a benchmark file."""
    if script in STUDIES:
        return importlib.import_module(f"cladec.studies.{script.removesuffix('.py')}").main
    spec = importlib.util.spec_from_file_location(f"benchmark_{script[:-3]}", BENCHMARKS / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _run(script: str, *args: str, monkeypatch) -> str:
    # In this process: a fresh one per script would import TensorFlow eight
    # more times (about 5 s of CPU each). test_every_script_runs_as_a_command
    # checks the command-line entry once.
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import _timing beside them
    monkeypatch.setattr(sys, "argv", [script, *args])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _main_of(script)()
    return out.getvalue()


def test_every_script_runs_as_a_command():
    for path in [*sorted(BENCHMARKS.glob("bench_*.py")), *(STUDY_DIR / s for s in STUDIES)]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guards = [
            node
            for node in tree.body
            if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"
        ]
        assert guards and ast.unparse(guards[-1].body[0]) == "main()", f"{path.name}: no main()"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_inference.py"), "--images", "100"]
        + ["--repeats", "1", "--untrained"],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"eager / compiled ratio \d+\.\d\d", result.stdout)


def test_bench_training_prints_every_figure(monkeypatch):
    out = _run("bench_training.py", "--images", "256", "--skip-full", monkeypatch=monkeypatch)
    assert re.search(r"classifier epoch \(perfect, batch 32\): [\d.]+ s for 256 images", out)
    assert re.search(r"classifier epoch \(diff, batch 32\): [\d.]+ s", out)
    assert re.search(r"one pass [\d.]+ s, five separate trainings [\d.]+ s, ratio \d\.\d\d", out)
    assert re.search(r"second epoch only: one pass [\d.]+ s, five separate [\d.]+ s, ratio", out)
    assert re.search(r"alphas > 0 alone: [\d.]+ s an epoch", out)


def test_knee_script_prints_each_decoder_against_the_reference(monkeypatch):
    out = _run(
        "knee_classifier_epochs.py",
        *("--images", "256", "--test-images", "100", "--decoder-epochs", "1"),
        *("--classifier-epochs", "1", "--inits", "0", "1"),
        monkeypatch=monkeypatch,
    )
    assert "reference test reconstruction loss 2.784, tolerance +15 % = 3.202" in out
    assert re.search(r"classifier 1 epochs: test accuracy 0\.\d{4}; 2 decoders", out)
    assert re.search(r"init 0: reconstruction [\d.]+ \([+-]\d+%\), classification", out)
    assert re.search(r"init 1: reconstruction", out)
    assert re.search(r"reconstruction [\d.]+ to [\d.]+, mean [\d.]+", out)


def test_eval_classifiers_bench_prints_both_ratios(monkeypatch):
    out = _run("bench_eval_classifiers.py", "--images", "128", monkeypatch=monkeypatch)
    assert re.search(
        r"3 evaluation classifiers \(perfect, 128 MNIST images each, 2 epochs, batch 32\), "
        r"one pass [\d.]+ s, three separate [\d.]+ s, ratio \d+\.\d\d",
        out,
    )
    assert re.search(r"second epoch only: one pass [\d.]+ s, three separate [\d.]+ s, ratio", out)
    # Same initial weights and batches both ways: the one pass trains the same classifiers.
    pairs = re.findall(r"([\d.]+) / ([\d.]+)", out.split("training loss, one pass / separate:")[1])
    assert len(pairs) == 3
    for one_pass, separate in pairs:
        assert abs(float(one_pass) - float(separate)) < 1e-3


def test_eval_accuracy_script_prints_every_epoch(monkeypatch):
    out = _run(
        "eval_accuracy_epochs.py",
        *("mnist", "my_dense", "--profile", "quick", "--epochs", "2", "--seeds", "0", "1"),
        "--no-refae",  # the RefAE's lines come from the same loop: two fits fewer
        monkeypatch=monkeypatch,
    )
    assert "RefAE" not in out
    for name in ("ClaDec alpha=0.99",):
        for seed in (0, 1):
            for epoch in (1, 2):
                assert re.search(
                    rf"mnist / my_dense, {name}, seed {seed}: after epoch {epoch}, "
                    rf"test accuracy 0\.\d{{4}} \(\d+ s\)",
                    out,
                )
        assert re.search(
            rf"mnist / my_dense, {name}: after 2 epochs, seeds 0 1: 0\.\d{{4}} to 0\.\d{{4}}, "
            rf"mean 0\.\d{{4}}",
            out,
        )


def test_saliency_bench_prints_both_times_per_method(monkeypatch):
    out = _run("bench_saliency.py", "--images", "4", "--repeats", "1", monkeypatch=monkeypatch)
    for method in ("gradient", "smoothgrad", "integrated_gradients", "gradcam"):
        assert re.search(
            rf"{method}: PAIR [\d.]+ ms, cladec [\d.]+ ms, ratio cladec / PAIR \d+\.\d\d", out
        ), out


def test_inference_bench_prints_both_ratios(monkeypatch):
    out = _run(
        "bench_inference.py",
        "--images",
        "300",
        "--repeats",
        "1",
        "--untrained",
        monkeypatch=monkeypatch,
    )
    assert re.search(r"eager +median [\d.]+ s", out)
    assert re.search(r"eager / compiled ratio \d+\.\d\d", out)
    assert re.search(r"compiled / remembered ratio \d+", out)


def test_dropout_codes_script_prints_both_decoders_against_the_reference(monkeypatch):
    out = _run(
        "dropout_codes.py",
        "mnist",
        "--profile",
        "quick",
        "--alphas",
        "0.25",
        "1",
        monkeypatch=monkeypatch,
    )
    assert re.search(
        r"mnist / my_dense, quick profile: 2 decoders trained on dropout codes side by side, "
        r"\d+ epochs on \d+ images in \d+ s",
        out,
    )
    assert re.search(r"2 evaluation classifiers \(\d+ epochs, seed 0\) in \d+ s", out)
    # The reference's own MNIST my_dense cells, looked up per alpha.
    assert re.search(
        r"alpha 0\.25: reconstruction loss [\d.]+ with dropout codes, [\d.]+ with complete codes "
        r"\(reference 20\.6\); evaluation accuracy 0\.\d{4} with dropout codes \([+-]0\.\d{4}\), "
        r"reference 0\.9846",
        out,
    )
    assert re.search(r"alpha 1: .*\(reference 312\.5\).*reference 0\.9867", out)


def test_pipeline_seeds_script_prints_each_seed_against_the_reference(monkeypatch):
    out = _run(
        "pipeline_seeds.py",
        *("mnist", "my_dense", "--profile", "quick", "--alphas", "0.99", "--seeds", "1"),
        monkeypatch=monkeypatch,
    )
    assert re.search(
        r"mnist / my_dense, quick profile, seed 1: classifier test accuracy 0\.\d{4} "
        r"\(reference 0\.9903\); \d+ s",
        out,
    )
    assert re.search(
        r"seed 1, alpha 0\.99: reconstruction loss [\d.]+ \(reference 24\.1\); evaluation "
        r"accuracy 0\.\d{4} \(reference 0\.9861, [+-]0\.\d{4}\)",
        out,
    )

"""The teaching pages: every exercise runs from the shipped models, fast, and prints its solution."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

TEACHING = Path(__file__).resolve().parents[1] / "docs" / "teaching"
EXERCISES = sorted((TEACHING / "exercises").glob("*.py"))
#: What the exercises page promises of every exercise's code.
TIME_LIMIT = 60.0
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

_RUNNER = """
import contextlib, io, json, runpy, sys, time
results = {}
for path in sys.argv[1:]:
    out, start = io.StringIO(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    results[path] = {"seconds": time.perf_counter() - start, "printed": out.getvalue()}
print(json.dumps(results))
"""


def _stated_seconds() -> dict[str, float]:
    """``{script stem: seconds}`` as each exercise's section states its run time."""
    text = (TEACHING / "exercises.rst").read_text(encoding="utf-8")
    stated = {}
    for section in re.split(r"\n\.\. _exercise-", text)[1:]:
        script = re.search(r"literalinclude:: exercises/(\w+)\.py", section)
        seconds = re.search(
            r"Run time: under a minute \((\d+) s on ours\)", section.replace("\n", " ")
        )
        if script:
            assert seconds, f"the exercise of {script[1]}.py states no run time"
            stated[script[1]] = float(seconds[1])
    return stated


def test_every_exercise_has_its_solution_output_and_a_stated_time():
    stated = _stated_seconds()
    assert sorted(stated) == sorted(p.stem for p in EXERCISES)
    for path in EXERCISES:
        assert path.with_suffix(".txt").is_file(), f"{path.name} has no printed solution"
        assert stated[path.stem] <= TIME_LIMIT, f"{path.name}: over a minute"


def _same_printout(got: str, expected: str) -> bool:
    """The same text, numbers equal to within one unit of the last digit shown."""
    if _NUMBER.sub("#", got.strip()) != _NUMBER.sub("#", expected.strip()):
        return False
    for g, e in zip(_NUMBER.findall(got), _NUMBER.findall(expected)):
        unit = 10 ** -len(e.split(".")[1]) if "." in e else 0
        if abs(float(g) - float(e)) > unit + 1e-12:
            return False
    return True


def test_the_printout_comparison_can_fail():
    assert _same_printout("loss 17.51 and 3", "loss 17.52 and 3")
    assert not _same_printout("loss 17.49 and 3", "loss 17.51 and 3")
    assert not _same_printout("loss 17.51", "loss 17.51 and 3")


@pytest.mark.slow
def test_every_exercise_runs_within_a_minute_and_prints_its_solution(tmp_path):
    env = {
        **os.environ,
        "CLADEC_PROFILE": "full",
        "CLADEC_TRAIN": "never",  # the shipped models only: nothing may train
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    command = [sys.executable, "-c", _RUNNER, *map(str, EXERCISES)]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    report = []
    for path in EXERCISES:
        result = results[str(path)]
        expected = path.with_suffix(".txt").read_text(encoding="utf-8")
        assert _same_printout(result["printed"], expected), (
            f"{path.name} printed\n{result['printed']}\nbut its solution shows\n{expected}"
        )
        report.append(f"{path.stem}: {result['seconds']:.1f} s")
        assert result["seconds"] <= TIME_LIMIT, f"{path.name} took {result['seconds']:.0f} s"
    print("exercise run times (one process, the first one imports TensorFlow):")
    print("\n".join(report))

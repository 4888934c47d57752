"""``python -m cladec reproduce`` and :func:`cladec.studies.reproduce.run_reproduce`.

The end-to-end test trains on a tiny slice of the real MNIST (the quick
profile cut to 300 training / 100 test images) in a private ``CLADEC_HOME``,
so that its first run really trains and its reruns prove the resume through
the model cache.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cladec
from cladec.cli.main import main
from cladec.store import ModelStore
from cladec.studies.reference import read_reference_csv
from cladec.studies.reproduce import (
    COMPARISON_FILE,
    REFERENCE_FILE,
    ROWS_FILE,
    ReproduceError,
    check_request,
    run_reproduce,
)
from cladec.studies.rows import read_rows_csv

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

REPO = Path(__file__).resolve().parents[1]
SMALL = [
    "--datasets",
    "mnist",
    "--layers",
    "my_dense",
    "--alphas",
    "0",
    "50",
    "99",
    "--profile",
    "quick",
    "--n-train",
    "300",
    "--n-test",
    "100",
]


def _cli(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cladec", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=300,
    )


def _usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "usage: python -m cladec reproduce" in err
    return err


def _comparison_records(path: Path) -> list[dict]:
    body = "".join(line for line in path.read_text().splitlines(True) if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture(scope="module")
def private_home(tmp_path_factory):
    """A CLADEC_HOME of this module alone: the first run finds an empty model cache."""
    home = tmp_path_factory.mktemp("reproduce-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLADEC_HOME", str(home))
        yield home


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_help_lists_the_options():
    result = _cli("reproduce", "--help")
    assert result.returncode == 0, result.stderr
    for option in (
        "--datasets",
        "--layers",
        "--alphas",
        "--profile",
        "--out",
        "--no-eval-accuracy",
        "--eval-images",
        "--eval-epochs",
        "--seed",
        "--quiet",
    ):
        assert option in result.stdout
    assert "99.99" in result.stdout  # the default alphas, in percent
    assert "--n-train" not in result.stdout  # hidden


def test_bad_alpha_in_a_real_process_is_a_usage_error(tmp_path):
    result = _cli("reproduce", "--alphas", "0", "abc", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "'abc'" in result.stderr and "[0, 100]" in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--datasets", "mnist", "cifar10"], ["'cifar10'", "mnist", "fashion_mnist"]),
        (["--layers", "my_dense", "my_pool"], ["'my_pool'", "my_dense", "my_conv"]),
        (["--alphas", "0", "150"], ["'150'", "outside [0, 100]"]),
        (["--alphas", "-1"], ["'-1'", "outside [0, 100]"]),
        (["--alphas", "0.5", "fifty"], ["'fifty'", "not a number"]),
        (["--alphas", "nan"], ["'nan'", "[0, 100]"]),
        (["--profile", "slow"], ["'slow'", "full", "quick"]),
        (["--eval-images", "0"], ["'0'", "positive whole number"]),
        (["--eval-images", "many"], ["'many'", "positive whole number"]),
        (["--eval-epochs", "0"], ["'0'", "positive whole number"]),
        (["--eval-epochs", "2.5"], ["'2.5'", "positive whole number"]),
    ],
)
def test_bad_arguments_are_usage_errors(argv, expected, capsys, tmp_path):
    err = _usage_error([*argv, "--out", str(tmp_path / "out")], capsys)
    for text in expected:
        assert text in err


def test_unwritable_out_is_a_usage_error(tmp_path, capsys, private_home):
    before = len(ModelStore().entries())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    err = _usage_error([*SMALL, "--out", str(blocker)], capsys)
    assert str(blocker) in err and "not a folder" in err
    err = _usage_error([*SMALL, "--out", str(blocker / "inside")], capsys)
    assert "cannot write" in err and str(blocker / "inside") in err
    assert len(ModelStore().entries()) == before  # refused before any training


def test_bad_profile_variable_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLADEC_PROFILE", "bogus")
    err = _usage_error(["--out", str(tmp_path / "out")], capsys)
    assert "'bogus'" in err and "full" in err and "quick" in err


# ---------------------------------------------------------------------------
# The Python function
# ---------------------------------------------------------------------------


def test_check_request_normalises(tmp_path):
    request = check_request(
        ["fashion-mnist", "mnist", "mnist"],
        "my_conv",
        [99.9, "0", 50, "5e1"],
        "quick",
        tmp_path / "new" / "folder",
        n_train=100,
    )
    assert request["datasets"] == ["fashion_mnist", "mnist"]
    assert request["layers"] == ["my_conv"]
    assert request["percents"] == [0.0, 50.0, 99.9]
    assert request["alphas"] == [0.0, 0.5, 0.999]
    quick = cladec.get_profile("quick")
    assert (request["profile"].n_train, request["profile"].n_test) == (100, quick.n_test)
    assert request["out"].is_dir()
    default = check_request(profile="full", out=tmp_path)
    assert default["datasets"] == ["mnist", "fashion_mnist"]
    assert default["layers"] == ["my_dense", "my_conv"]
    assert default["alphas"] == [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.99, 0.999, 0.9999, 1.0]
    assert default["profile"].n_train is None
    assert default["eval_epochs"] == cladec.get_profile("full").eval_epochs
    assert check_request(profile="full", out=tmp_path, eval_epochs="10")["eval_epochs"] == 10


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"datasets": ["svhn"]}, "unknown dataset 'svhn'"),
        ({"layers": ["dense"]}, "unknown layer 'dense'"),
        ({"alphas": [101]}, r"alpha 101 is outside \[0, 100\]"),
        ({"alphas": [True]}, "alpha True is not a number"),
        ({"alphas": []}, "no alpha given"),
        ({"eval_images": 2.5}, "eval_images must be a positive whole number; got 2.5"),
        ({"eval_epochs": 0}, "eval_epochs must be a positive whole number; got 0"),
        ({"profile": "medium"}, "profile='medium' is not a run profile"),
    ],
)
def test_run_reproduce_refuses_before_training(kwargs, says, tmp_path, private_home):
    request = {
        "datasets": ["mnist"],
        "layers": ["my_dense"],
        "alphas": [0],
        "profile": "quick",
        "out": tmp_path / "out",
        **kwargs,
    }
    before = len(ModelStore().entries())
    with pytest.raises(ReproduceError, match=says):
        run_reproduce(**request, verbose=0)
    assert len(ModelStore().entries()) == before


# ---------------------------------------------------------------------------
# End to end, and the resume through the cache
# ---------------------------------------------------------------------------


def test_end_to_end_quick_run_and_resume(tmp_path, capsys, private_home):
    out = tmp_path / "results"

    # 1. The command line, without the evaluation accuracy: trains the classifier,
    #    the RefAE and three decoders (all alphas in one sweep).
    assert main(["reproduce", *SMALL, "--out", str(out), "--no-eval-accuracy"]) == 0
    printed = capsys.readouterr().out
    assert "=== [1/1] mnist / my_dense ===" in printed
    assert "NOT comparable with the reference" in printed
    assert "5 model(s) trained, 0 loaded from the cache" in printed
    assert "epoch 2/2" in printed  # the library's progress lines
    for name in (ROWS_FILE, REFERENCE_FILE, COMPARISON_FILE):
        assert (out / name).is_file()

    table, provenance = read_reference_csv(out / REFERENCE_FILE, provenance=True)
    assert list(table[0]) == ["dataset", "layer", "eval", "classifier", "refAE", " 0", "50", "99"]
    assert [r["eval"] for r in table] == [
        "total_loss",
        "reconstruction_loss",
        "classification_loss",
        "evaluation_accuracy",
    ]
    assert {(r["dataset"], r["layer"]) for r in table} == {("mnist", "my_dense")}
    assert table[3]["classifier"] is not None and table[3]["refAE"] is None  # no eval accuracy
    assert "--profile quick" in provenance["command"]
    assert provenance["comparable_with_reference"] == "no"
    for key in ("profile", "keras", "tensorflow", "created", "machine", "status"):
        assert provenance[key]
    assert provenance["models_trained"] == "5" and provenance["models_from_cache"] == "0"
    assert int(provenance["wall_time_seconds"]) >= 0
    assert provenance["pair_seconds"].startswith("mnist/my_dense=")
    assert "claims of the reference evaluation" in printed
    assert "mnist / my_dense: not run: The reconstruction loss explodes" in printed

    rows = read_rows_csv(out / ROWS_FILE)
    assert [(r.model, r.alpha) for r in rows] == [
        ("classifier", None),
        ("refAE", None),
        ("cladec", 0.0),
        ("cladec", 0.5),
        ("cladec", 0.99),
    ]

    comparison = _comparison_records(out / COMPARISON_FILE)
    assert comparison and all(c["within_tolerance"] in ("True", "False", "") for c in comparison)
    assert any(c["within_tolerance"] in ("True", "False") for c in comparison)
    assert {"reference", "ours", "difference"} <= set(comparison[0])

    # 2. Again with the evaluation accuracy on at most 200 training reconstructions,
    #    quietly: only the four evaluation classifiers train.
    assert main(["reproduce", *SMALL, "--out", str(out), "--eval-images", "200", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "4 model(s) trained, 5 loaded from the cache" in printed
    assert "epoch 1/" not in printed  # --quiet: only the summary
    assert "NOT comparable" in printed
    table = read_reference_csv(out / REFERENCE_FILE)
    assert all(table[3][c] is not None for c in ("classifier", "refAE", " 0", "50", "99"))

    # 3. The same request from Python: nothing trains, the results are the same.
    again = run_reproduce(
        ["mnist"],
        ["my_dense"],
        [0, 50, 99],
        "quick",
        out,
        eval_images=200,
        n_train=300,
        n_test=100,
        verbose=0,
    )
    assert capsys.readouterr().out == ""
    assert (again.trained, again.cached) == (0, 9)
    assert again.blocks == [{**again.blocks[0], "dataset": "mnist", "layer": "my_dense"}]
    assert [r.total_loss for r in again.rows] == pytest.approx([r.total_loss for r in rows])
    assert all(r.evaluation_accuracy is not None for r in again.rows)
    assert all(r.eval_from_cache for r in again.rows[1:])
    assert "200" in again.provenance["caps"]
    judged = [c for c in again.comparison if c["eval"] == "evaluation_accuracy"]
    assert len(judged) == 5 and all(c["within_tolerance"] in (True, False) for c in judged)
    assert len(again.within) + len(again.outside) + len(again.untested) == len(again.comparison)
    assert [r.evaluation_accuracy for r in read_rows_csv(out / ROWS_FILE)] == [
        r.evaluation_accuracy for r in again.rows
    ]
    assert all(r.eval_epochs == cladec.get_profile("quick").eval_epochs for r in again.rows[1:])

    # 4. Longer-trained evaluation classifiers are other models: four more train,
    #    and the provenance and the rows say how long they trained.
    longer = run_reproduce(
        ["mnist"], ["my_dense"], [0, 50, 99], "quick", out,
        eval_images=200, eval_epochs=2, n_train=300, n_test=100, verbose=0,
    )  # fmt: skip
    assert (longer.trained, longer.cached) == (4, 5)
    assert all(r.eval_epochs == 2 and r.eval_from_cache is False for r in longer.rows[1:])
    assert "--eval-epochs 2" in longer.provenance["command"]
    assert "trained 2 epochs" in longer.provenance["evaluation_accuracy"]


def test_provenance_commands_name_no_absolute_path(tmp_path, monkeypatch):
    from cladec.studies._plan import portable as _portable

    monkeypatch.chdir(tmp_path)
    assert _portable(tmp_path / "runs" / "a") == "runs/a"
    assert _portable(tmp_path) == "."
    assert _portable("/elsewhere/out") == "out"


def test_committed_results_hold_no_machine_paths():
    import re
    from pathlib import Path

    results = Path(__file__).resolve().parents[1] / "docs" / "results"
    files = sorted(results.rglob("*.csv"))
    assert files
    for path in files:
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                assert not re.search(r"(^|\s)/(work|tmp|root|home|Users)\b", line), (path, line)

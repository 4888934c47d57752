"""The built site shared by the browser tests: built once per run, served on 127.0.0.1.

``conftest.py`` makes the ``site`` and ``browser`` fixtures visible to every
test module; ``test_site.py`` documents the environment variables.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
GALLERY = REPO / "gallery"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
APT_HINT = "apt-get install chromium chromium-driver"

# Folders and files that Sphinx, autosummary and Sphinx-Gallery generate inside docs/.
GENERATED_IN_DOCS = (
    "_build",
    "auto_examples",
    "generated",
    "_generated",
    "sg_execution_times.rst",
    "__pycache__",
)
# Its environment is made while the site builds.
NOTEBOOK_TEST = "test_notebooks_run_from_the_wheel_alone"
# Pages that the gallery itself generates and that are not tutorials.
GALLERY_NON_EXAMPLES = {"index.html", "sg_execution_times.html"}


def artifacts_dir() -> Path:
    value = os.environ.get("CLADEC_ARTIFACTS", "").strip()
    return Path(value).expanduser() if value else REPO / "test-artifacts"


# --------------------------------------------------------------------------- the built site


@dataclass
class Site:
    root: Path
    base_url: str
    requests: list  # (path, status) of every request the server answered, in order
    source_gallery: Path
    home: str  # CLADEC_HOME of the build: the notebooks reuse its model cache

    def url(self, rel: str) -> str:
        return urllib.parse.urljoin(self.base_url, rel)

    def example_pages(self) -> list[str]:
        folder = self.root / "auto_examples"
        return sorted(
            f"auto_examples/{p.name}"
            for p in folder.glob("*.html")
            if p.name not in GALLERY_NON_EXAMPLES
        )


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} missing: install Debian's packages ({APT_HINT})")
    pytest.importorskip("selenium", reason="pip install selenium (the project's test extra)")


def _copy_sources(dest: Path) -> None:
    """Copy docs/ and gallery/ (without generated files); link the rest of the repository."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DOCS, dest / "docs", ignore=shutil.ignore_patterns(*GENERATED_IN_DOCS))
    shutil.copytree(
        GALLERY,
        dest / "gallery",
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    # Scripts may read files beside the repository's other folders (read only).
    for entry in REPO.iterdir():
        if entry.name.startswith(".") or entry.name in {
            "docs",
            "gallery",
            "test-artifacts",
            "build",
            "dist",
        }:
            continue
        (dest / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())


def site_profile() -> str:
    """The profile the site is built and the notebooks run under (``CLADEC_SITE_PROFILE``)."""
    value = os.environ.get("CLADEC_SITE_PROFILE", "").strip() or "full"
    assert value in ("full", "quick"), f"CLADEC_SITE_PROFILE={value!r}; accepted: full, quick"
    return value


def _site_home(tmp: Path) -> str:
    return os.environ.get("CLADEC_TEST_HOME", "").strip() or str(tmp / "cladec_home")


def _build_site(tmp: Path) -> Path:
    src = tmp / "src"
    _copy_sources(src)
    out = tmp / "html"
    home = _site_home(tmp)
    env = dict(os.environ)
    profile = site_profile()
    env.update(
        CLADEC_PROFILE=profile,
        # the full site uses the shipped models only: a missing one fails the build
        CLADEC_TRAIN="never" if profile == "full" else "auto",
        CLADEC_PRETRAINED="1",
        CLADEC_HOME=home,
        TF_CPP_MIN_LOG_LEVEL="2",
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])),
        # the notebooks install the wheel this build serves; no launch links
        CLADEC_INSTALL_TARGET="",
        CLADEC_REPOSITORY_URL="",
    )
    timeout = float(os.environ.get("CLADEC_SITE_BUILD_TIMEOUT", "1200"))
    log_path = artifacts_dir() / "site-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    warnings_path = artifacts_dir() / "site-warnings.txt"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-w", str(warnings_path)]
    command += ["-b", "html", "docs", str(out)]
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}  (cwd {src}, CLADEC_HOME={home})\n")
        log.flush()
        try:
            result = subprocess.run(
                command,
                cwd=src,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"the {profile} site build took more than {timeout:.0f} s\n{_tail(log_path)}\n"
                f"(full log: {log_path})",
                pytrace=False,
            )
    seconds = time.perf_counter() - start
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n[test_site] exit code {result.returncode} after {seconds:.0f} s\n")
    if result.returncode != 0 or not (out / "index.html").is_file():
        pytest.fail(
            f"sphinx-build -W failed (exit code {result.returncode}) after {seconds:.0f} s\n"
            f"--- {warnings_path.name} ---\n{_read(warnings_path)}\n"
            f"{_tail(log_path)}\n(full log: {log_path})",
            pytrace=False,
        )
    return out


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else "(none)"


def _tail(path: Path, lines: int = 150) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    # -W turns warnings into errors, but sphinx's summary does not repeat them:
    # show them first so a failure names its cause.
    problems = [line for line in text if "WARNING" in line or "ERROR" in line]
    return "\n".join(
        [
            "--- warnings and errors in the build log ---",
            *problems[:60],
            "--- build log (last lines) ---",
            *text[-lines:],
        ]
    )


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; remembers every (path, status) it answered."""

    requests: list = []
    lock = threading.Lock()

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        pass

    def log_request(self, code="-", size="-"):
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = getattr(code, "value", 0)
        with self.lock:
            self.requests.append((urllib.parse.urlsplit(self.path).path, status))


@dataclass
class BuiltSite:
    root: Path
    source_gallery: Path
    home: str

    def printed(self, tutorial: str) -> str:
        """What a tutorial printed in the build (every output block, in order), as plain text."""
        import html
        import re

        page = (self.root / "auto_examples" / f"{tutorial}.html").read_text(encoding="utf-8")
        blocks = re.findall(r'class="sphx-glr-script-out[^"]*".*?<pre>(.*?)</pre>', page, re.S)
        assert blocks, f"{tutorial}.html shows no printed output"
        return "\n".join(html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, request) -> BuiltSite:
    """The site, built once per run under ``full`` from the shipped models (or CLADEC_SITE_DIR)."""
    if any(item.name == NOTEBOOK_TEST for item in request.session.items):
        from _wheel_env import start_early

        start_early(tmp_path_factory.mktemp("wheel_env"))
    given = os.environ.get("CLADEC_SITE_DIR", "").strip()
    tmp = tmp_path_factory.mktemp("cladec_site")
    if given:
        root = Path(given).expanduser().resolve()
        assert (root / "index.html").is_file(), f"CLADEC_SITE_DIR={given} holds no index.html"
        return BuiltSite(root, GALLERY, _site_home(tmp))
    return BuiltSite(_build_site(tmp), tmp / "src" / "gallery", _site_home(tmp))


@pytest.fixture(scope="session")
def site(built_site) -> Site:
    """The built site, served on 127.0.0.1 for the browser tests."""
    _require_browser()
    root, source_gallery = built_site.root, built_site.source_gallery
    requests: list = []
    handler = type("SiteHandler", (_Handler,), {"requests": requests, "lock": threading.Lock()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Site(root, f"http://{host}:{port}/", requests, source_gallery, built_site.home)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def chromium_driver(profile_dir: Path, *, width: int = 1280, height: int = 2000):
    """Debian's Chromium, headless, driven by Selenium, with the browser console logged."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(width, height)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    return driver


@pytest.fixture(scope="session")
def browser(site, tmp_path_factory):
    driver = chromium_driver(tmp_path_factory.mktemp("chromium_profile"))
    try:
        yield driver
    finally:
        driver.quit()

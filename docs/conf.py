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

import ast
import importlib.metadata
import inspect
import json
import os
import re
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


def _read_version() -> str:
    """``__version__`` from cladec/_version.py, parsed: no import of cladec (nor TensorFlow)."""
    source = ROOT / "cladec" / "_version.py"
    if not source.is_file():  # docs/ used without a checkout: ask the installed package
        return importlib.metadata.version("cladec")
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise RuntimeError(f"{source} assigns no __version__")


release = _read_version()
version = ".".join(release.split(".")[:2])

# -- Counts the pages state, taken from the tree -------------------------------
# Written by hand they went stale (five tutorials when there were six, bundle
# totals without tutorial 06's models); the pages use these substitutions.

_NUMBER_WORDS = dict(enumerate("zero one two three four five six seven eight nine ten".split()))


def _duration(seconds: float) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{seconds:,.0f} s ({hours} h {minutes} min)" if hours else f"{seconds:,.0f} s"


def _count_substitutions() -> str:
    import json

    from cladec._costs import bundle_costs

    tutorials = sorted((ROOT / "gallery").glob("plot_*.py"))
    manifest = json.loads((ROOT / "cladec" / "pretrained" / "manifest.json").read_text())
    costs = bundle_costs(manifest["entries"].values())
    names = {
        "classifier": "classifiers",
        "refae": "RefAEs",
        "cladec": "ClaDec decoders",
        "eval_classifier": "evaluation classifiers",
    }
    by_kind = ", ".join(
        f"{kind['models']} {names.get(name, name)} {kind['seconds']:,.0f} s"
        for name, kind in costs["kinds"].items()
    )
    values = {
        "n-tutorials": _NUMBER_WORDS.get(len(tutorials), str(len(tutorials))),
        "N-tutorials": _NUMBER_WORDS.get(len(tutorials), str(len(tutorials))).capitalize(),
        "bundle-models": str(costs["models"]),
        "bundle-size": f"{costs['bytes'] / 1e6:.0f} MB",
        "bundle-training": _duration(costs["seconds"]),
        "bundle-by-kind": by_kind,
    }
    return "\n".join(f".. |{name}| replace:: {text}" for name, text in values.items())


rst_epilog = _count_substitutions()

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "cladec_results",
    "cladec_saliency",
    "cladec_schematic",
    "cladec_targets",
    "cladec_notebooks",
    "cladec_live",
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
    "_live",
    "_generated/npm",
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
# A non-empty set turns numpydoc's validation on (numpydoc >= 1.1 has no
# separate switch); each failure is a warning, so -W fails the build. PR01 and
# PR02: every parameter is documented and every documented one exists; the
# others are the checks the docstrings already pass, kept so they stay passed.
# Not checked: examples and See Also in every docstring (EX01, SA01), extended
# summaries (ES01), and GL02, which trips on the constants' injected texts.
numpydoc_validation_checks = {
    "PR01",  # a parameter is not documented
    "PR02",  # a documented parameter does not exist
    "PR03",  # parameters documented in another order than the signature's
    "PR05",  # a parameter type ends with a period
    "PR06",  # a parameter type says "integer", "string", ... instead of int, str
    "PR09",  # a parameter description does not end with a period
    "RT02",  # a Returns line names more than the type of a single value
    "RT05",  # a return description does not end with a period
    "YD01",  # a generator has no Yields section
    "SS01",  # no summary line
    "SS03",  # the summary does not end with a period
    "SS04",  # the summary starts with whitespace
    "GL01",  # the summary does not start right after the opening quotes
    "GL03",  # double blank lines
    "GL05",  # tabs
    "GL06",  # an unknown section
    "GL07",  # sections out of order
    "GL08",  # no docstring at all
    "GL09",  # a deprecation note after the extended summary
    "GL10",  # a reST directive with one colon
    "SA02",  # See Also: an entry's description lacks the final period
    "SA03",  # See Also: an entry's description is not capitalised
    "SA04",  # See Also: an entry has no description
}

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

    own_module, short = name.rsplit(".", 1)
    candidates = sorted({m.__name__ for m in vars(cladec).values() if inspect.ismodule(m)})
    for module in [own_module, *candidates]:  # its own module first (subpackages' too)
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
# The wheel of this version and the notebooks, at the site's root (cladec_notebooks writes them).
(DOCS / "_generated" / "site-extra").mkdir(parents=True, exist_ok=True)
html_extra_path = ["_generated/site-extra"]
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
    "live": [],  # the canvas, the pictures and the scores side by side
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
    "header_links_before_dropdown": 7,
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

# -- Copy buttons on code blocks -------------------------------------------------

# Copy what a reader types, not the prompts (``>>>``, ``$``) or the printed output.
copybutton_exclude = ".linenos, .gp, .go"

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
    # The execution-times page is in the root toctree: write it even when
    # SOURCE_DATE_EPOCH is set (Sphinx-Gallery then skips it by default).
    "write_computation_times": True,
    # written at build time by cladec_notebooks: a setup cell that installs what is missing
    "first_notebook_cell": None,
}


def _ort_version() -> str:
    # the pinned onnxruntime-web the live page runs (docs/_live/package-lock.json)
    lock = json.loads((DOCS / "_live" / "package-lock.json").read_text())
    return lock["packages"]["node_modules/onnxruntime-web"]["version"]


# Tell readers (and the gallery pages) which profile built the site.
rst_prolog = f"""
.. |profile| replace:: ``{PROFILE}``
.. |ort-version| replace:: {_ort_version()}
"""


# Sphinx-Gallery's execution-times pages load jQuery and DataTables (a sortable
# table) from CDNs; the site fetches nothing from elsewhere, so that block is
# dropped as the page is read and the table stays a plain one.
_REMOTE_RAW_HTML = re.compile(
    r"^(?P<indent>[ \t]*)\.\. raw:: html\n(?:(?P=indent)[ \t]+.*\n|[ \t]*\n)*", re.M
)


def drop_remote_scripts(app, docname: str, source: list[str]) -> None:
    if docname.rsplit("/", 1)[-1] != "sg_execution_times":
        return
    source[0] = _REMOTE_RAW_HTML.sub(lambda m: "" if "://" in m.group(0) else m.group(0), source[0])


def setup(app):
    app.connect("builder-inited", copy_mathjax)
    app.connect("source-read", drop_remote_scripts)
    app.connect("autodoc-process-docstring", describe_constants, priority=100)  # before numpydoc
    return {"parallel_read_safe": True, "parallel_write_safe": True}

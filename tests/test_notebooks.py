"""The notebooks' first cell and clean markdown, without building the site (docs/_ext/cladec_notebooks.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from cladec_notebooks import (  # noqa: E402
    RAW_REST,
    clean_markdown,
    colab_link,
    first_cell,
)
from sphinx.errors import ConfigError  # noqa: E402

TARGET = "/nowhere/cladec-0.1.0-py3-none-any.whl"


def _cell_script(tmp_path: Path) -> Path:
    script = tmp_path / "first_cell.py"
    code = first_cell(TARGET).replace("%matplotlib inline", "")
    script.write_text(code, encoding="utf-8")
    return script


def test_roles_become_words_and_code():
    text = (
        "The :term:`code` of a layer, :term:`alpha <alpha>`, :func:`cladec.explain`,\n"
        ":func:`~cladec.metrics.fidelity`, :class:`~cladec.ClaDec`, :ref:`the notes <notes>`,\n"
        ":doc:`installation` and :math:`x^2`."
    )
    assert clean_markdown(text) == (
        "The code of a layer, alpha, ``cladec.explain()``,\n"
        "``fidelity()``, ``ClaDec``, the notes,\n"
        "installation and $x^2$."
    )


def test_admonitions_become_a_bold_title_and_their_text():
    text = "Before.\n\n.. admonition:: Pitfalls\n\n   * one :term:`alpha`\n   * two\n\nAfter.\n"
    cleaned = clean_markdown(text)
    assert cleaned == "Before.\n\n**Pitfalls**\n\n* one alpha\n* two\n\nAfter.\n"
    assert RAW_REST.search(cleaned) is None
    assert RAW_REST.search(text) is not None


def test_dropdowns_become_html_details_and_keep_their_roles():
    text = (
        "Before.\n\n.. dropdown:: More detail\n   :open:\n\n"
        "   :term:`alpha` at 0.99, see :func:`cladec.explain`.\n\n   Second paragraph.\n\nAfter.\n"
    )
    cleaned = clean_markdown(text)
    assert cleaned == (
        "Before.\n\n<details><summary>More detail</summary>\n\n"
        "alpha at 0.99, see ``cladec.explain()``.\n\nSecond paragraph.\n\n</details>\n\nAfter.\n"
    )
    assert RAW_REST.search(cleaned) is None


def test_colab_links_only_for_a_github_repository():
    assert colab_link("https://github.com/someone/cladec", "gh-pages", "plot_01.ipynb") == (
        "https://colab.research.google.com/github/someone/cladec/blob/gh-pages/notebooks/plot_01.ipynb"
    )
    assert colab_link("https://github.com/someone/cladec.git/", "main", "a.ipynb").endswith(
        "/someone/cladec/blob/main/notebooks/a.ipynb"
    )
    for bad in ("https://gitlab.com/someone/cladec", "github.com/someone/cladec", "someone/cladec"):
        with pytest.raises(ConfigError, match="is not https://github.com/OWNER/REPO"):
            colab_link(bad, "gh-pages", "a.ipynb")


def test_the_first_cell_does_nothing_where_everything_is_there(tmp_path):
    done = subprocess.run(
        [sys.executable, str(_cell_script(tmp_path))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_NO_INDEX": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "installing" not in done.stdout
    assert done.stdout.startswith("cladec ") and "MNIST from: " in done.stdout
    assert "none found" not in done.stdout


def test_without_network_or_wheel_the_first_cell_says_what_is_missing_in_one_line(tmp_path):
    # a bare environment: no cladec, no pip to install it with
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True
    )
    python = tmp_path / "env" / "bin" / "python"
    done = subprocess.run(
        [str(python), str(_cell_script(tmp_path))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 1
    message = done.stderr.strip().splitlines()[-1]
    assert message == (
        "cladec is missing and could not be installed (no network, or no such file?): "
        f"run `pip install {TARGET}` where it can reach its source, then rerun"
    )
    site_packages = next((tmp_path / "env" / "lib").glob("python3*/site-packages"))
    assert not any(site_packages.iterdir()), "the failed install left files behind"


def test_a_tutorial_offers_colab_only_when_the_repository_is_set():
    from cladec_notebooks import _run_note

    settings = {"target": TARGET, "wheel": "cladec-0.1.0-py3-none-any.whl", "branch": "gh-pages"}
    without = _run_note(
        {**settings, "repository": "", "own_wheel": True}, "plot_01_perfectae_dense"
    )
    assert "colab" not in without.lower()
    assert (
        "this site's wheel, `cladec-0.1.0-py3-none-any.whl <../cladec-0.1.0-py3-none-any.whl>`__"
        in without
    )
    assert TARGET not in without  # a local path means nothing to a reader of a published site
    published = _run_note({**settings, "repository": "", "target": "cladec"}, "plot_01")
    assert "installs cladec from ``cladec``" in published
    with_link = _run_note(
        {**settings, "repository": "https://github.com/someone/cladec"}, "plot_01_perfectae_dense"
    )
    assert (
        "`Open in Colab <https://colab.research.google.com/github/someone/cladec/blob/gh-pages/"
        "notebooks/plot_01_perfectae_dense.ipynb>`__"
    ) in with_link

"""The results page's directive (``docs/_ext/cladec_results.py``), on a tiny Sphinx project.

The rows come from the reference table itself, with one cell made worse, so
every verdict is known without training anything.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cladec.studies.reference import load_reference_table, rows_from_reference
from cladec.studies.rows import write_rows_csv

pytestmark = pytest.mark.slow  # over 15 s in all: handed out first (conftest.py)

EXT = Path(__file__).resolve().parents[1] / "docs" / "_ext"

PAGE = """\
Results
=======

.. cladec-results:: results/rows.csv
   :part: verdict

.. cladec-results:: results/rows.csv
   :part: provenance

.. cladec-results:: results/rows.csv
   :part: downloads

.. cladec-results:: results/rows.csv
   :part: table
   :pair: mnist/my_dense

.. cladec-results:: results/rows.csv
   :part: table
   :pair: fashion_mnist/my_conv

.. cladec-results:: results/rows.csv
   :part: curves
   :pair: mnist/my_dense

.. cladec-results:: results/rows.csv
   :part: outside

.. cladec-results:: results/rows.csv
   :part: claims
"""


def _project(tmp_path: Path, page: str) -> Path:
    src = tmp_path / "src"
    (src / "results").mkdir(parents=True)
    (src / "conf.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(EXT)!r})
            extensions = ["cladec_results"]
            project = "results-test"
            """
        )
    )
    (src / "index.rst").write_text(page)
    rows = []
    for row in rows_from_reference(load_reference_table()):
        if row.dataset != "mnist":
            continue  # a partial run: the Fashion-MNIST pairs are missing
        if (row.layer, row.model, row.alpha) == ("my_dense", "cladec", 0.5):
            row = dataclasses.replace(row, reconstruction_loss=30.0)  # +46 %: outside
        if (row.layer, row.model) == ("my_conv", "refAE"):
            row = dataclasses.replace(row, evaluation_accuracy=0.95)  # a rule with |...|
        rows.append(row)
    write_rows_csv(
        rows,
        src / "results" / "rows.csv",
        {"status": "partial", "command": "x y", "evaluation_accuracy": "no (--no-eval-accuracy)"},
    )
    return src


def _build(src: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_results_page_renders_tables_claims_and_figure(tmp_path):
    src = _project(tmp_path, PAGE)
    done = _build(src, tmp_path / "html")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert (
        "partial" in html
        and '<code class="docutils literal notranslate"><span class="pre">x</span>' in html
    )
    assert '<span class="pre">(--no-eval-accuracy)</span>' in html  # not a typographic dash
    assert "<strong>30</strong>" in html  # our cell outside tolerance, in bold
    assert "20.52" in html  # the reference beside it
    assert "<p>fidelity</p>" in html  # fidelity columns (empty here: the reference has none)
    assert "fashion_mnist / my_conv is not in this run yet" in html
    assert "mnist / my_dense, reconstruction loss, alpha 0.5: ours 30, reference 20.52" in html
    assert "ours 0.95, reference 0.9914" in html and "|ours - reference| &lt;= 0.01" in html
    assert html.count("Claim ") == 6
    # the verdict first: one doctored cell of each MNIST pair is outside, Fashion-MNIST is absent
    assert "<strong>42 of the 44 judged cells are within tolerance" in html
    assert "fashion_mnist / my_conv</p></td>\n<td><p>not in this run" in html
    # the provenance is collapsed; the CSV is offered as a download
    assert '<details class="cladec-provenance"><summary>Show the command' in html
    assert html.index("<details") < html.index("x</span>") < html.index("</details>")
    assert 'download="rows.csv"' in html or "_downloads/" in html
    assert (tmp_path / "html" / "_downloads").is_dir()
    assert "does not hold" in html  # the flat-loss claim, broken by the doctored cell
    assert "not run" in html  # the Fashion-MNIST pairs
    figure = src / "results" / "_generated" / "curves_mnist_my_dense.png"
    assert figure.is_file() and figure.stat().st_size > 10_000
    assert (tmp_path / "html" / "_images" / figure.name).is_file()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (":part: table\n   :pair: mnist/my_pool", "unknown :pair: 'mnist/my_pool'; accepted:"),
        (":part: everything", "invalid option value"),
    ],
)
def test_results_directive_refuses_bad_options(tmp_path, options, message):
    page = f"Results\n=======\n\n.. cladec-results:: results/rows.csv\n   {options}\n"
    done = _build(_project(tmp_path, page), tmp_path / "html")
    assert done.returncode != 0
    assert message in done.stderr


def test_results_directive_without_runs_says_how_to_name_them(tmp_path):
    page = "Results\n=======\n\n.. cladec-results::\n   :part: outside\n"
    done = _build(_project(tmp_path, page), tmp_path / "html")
    assert done.returncode != 0
    assert "needs the rows.csv files" in done.stderr and "cladec-results-runs" in done.stderr


def test_results_page_merges_runs_pair_by_pair(tmp_path):
    """A later run that re-did one pair replaces that pair; the others come from the first.

    The runs are named once for the page (``cladec-results-runs``).
    """
    page = """\
Results
=======

.. cladec-results-runs:: results/rows.csv results/later.csv

.. cladec-results::
   :part: provenance

.. cladec-results::
   :part: table
   :pair: mnist/my_dense

.. cladec-results::
   :part: table
   :pair: mnist/my_conv

.. cladec-results::
   :part: curves
   :pair: mnist/my_dense

.. cladec-results::
   :part: outside

.. cladec-results::
   :part: cost
"""
    src = _project(tmp_path, page)
    later = [
        dataclasses.replace(row, reconstruction_loss=21.0)
        if (row.model, row.alpha) == ("cladec", 0.5)
        else row
        for row in rows_from_reference(load_reference_table())
        if (row.dataset, row.layer) == ("mnist", "my_dense")
    ]
    write_rows_csv(
        later,
        src / "results" / "later.csv",
        {
            "command": "later-run",
            "pair_seconds": "mnist/my_dense=3722",
            "pair_models": "mnist/my_dense=17+6",
        },
    )
    done = _build(src, tmp_path / "html")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    # provenance: both runs, each with the pairs it supplies
    assert "Run 1" in html and "Run 2" in html
    assert "used for: mnist / my_conv." in html and "used for: mnist / my_dense." in html
    assert "later-run" in html
    # the later run's cell replaces the doctored one of the first run, which is gone
    assert "<strong>30</strong>" not in html and ">21<" in html
    assert "mnist / my_dense, reconstruction loss" not in html
    # my_conv still comes from the first run: its doctored evaluation accuracy shows
    assert "ours 0.95, reference 0.9914" in html
    assert (src / "results" / "_generated" / "curves_mnist_my_dense.png").is_file()
    # the cost: the later run recorded its pair's wall time and models; the first did not
    assert "1 h 02 min (3,722 s)</p></td>\n<td><p>17</p></td>\n<td><p>6</p>" in html
    assert "mnist / my_conv</p></td>\n<td><p>not recorded" in html

"""The ``cladec-saliency`` directive: the committed saliency comparison, rendered as tables.

Reads the CSVs ``python -m cladec saliency`` wrote (:mod:`cladec.studies.saliency_study`)
so the page shows the numbers of the files it ships::

    .. cladec-saliency:: results/saliency/faithfulness.csv
       :part: faithfulness

Parts: ``faithfulness`` (deletion and insertion areas per map and dataset),
``randomisation`` (mean rank correlation per stage and map) and
``provenance`` (the run's command, versions, machine and timings).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from cladec.saliency.heatmaps import label_of
from cladec.studies.saliency_study import read_study_csv

_DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def _name(method: str) -> str:
    # a bare |...| in reST is a substitution reference
    return label_of(method).replace("|", "\\|")


def _table(header: list[str], body: list[list[str]], title: str) -> list[str]:
    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in [header, *body]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return lines


def _faithfulness(rows: list[dict]) -> list[str]:
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    cells = {(r["dataset"], r["method"], r["mode"]): r for r in rows}
    header = ["map"] + [
        f"{_DATASETS.get(d, d)} {mode}" for d in datasets for mode in ("deletion ↓", "insertion ↑")
    ]
    body = []
    for method in dict.fromkeys(r["method"] for r in rows):
        line = [_name(method)]
        for d in datasets:
            for mode in ("deletion", "insertion"):
                r = cells.get((d, method, mode))
                line.append("–" if r is None else f"{r['area']:.4f} ± {r['sem']:.4f}")
        body.append(line)
    n = rows[0]["n"] if rows else "?"
    return _table(header, body, f"Area under the curve, mean ± standard error over {n} test images")


def _randomisation(rows: list[dict]) -> list[str]:
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    accuracy = {r["stage"]: r["accuracy"] for r in rows}
    cells = {(r["method"], r["stage"]): r for r in rows}
    header = ["map"] + [f"{s} (acc. {accuracy[s]:.3f})" for s in stages]
    body = [
        [_name(m)]
        + [
            f"{cells[(m, s)]['mean_rank_correlation']:.2f} ± {cells[(m, s)]['sem']:.2f}"
            for s in stages
        ]
        for m in dict.fromkeys(r["method"] for r in rows)
    ]
    return _table(
        header, body, "Rank correlation with the trained model's map, mean ± standard error"
    )


def _provenance(provenance: dict) -> list[str]:
    lines = []
    for key, value in provenance.items():
        text = str(value).replace("*", "\\*").replace("`", "\\`").replace("|", "\\|")
        lines.append(f"* **{key}**: {text}")
    return lines


class SaliencyDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"part": directives.unchanged_required}

    def run(self):
        path = Path(self.env.srcdir) / self.arguments[0]
        self.env.note_dependency(str(path))
        provenance, rows = read_study_csv(path)
        part = self.options.get("part", "faithfulness")
        render = {"faithfulness": _faithfulness, "randomisation": _randomisation}
        if part == "provenance":
            lines = _provenance(provenance)
        elif part in render:
            lines = render[part](rows)
        else:
            raise self.error(
                f"unknown part {part!r}; one of faithfulness, randomisation, provenance"
            )
        holder = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(path)), self.content_offset, holder)
        if part != "provenance":
            return holder.children
        return collapsed(holder.children, "the saliency study")


def collapsed(children, what: str) -> list:
    """``children`` in a closed ``<details>`` block, as the results' provenance: opened to check a run."""
    return [
        nodes.raw(
            "",
            '<details class="cladec-provenance"><summary>Show the command, versions, '
            f"machine and timings of {what}</summary>",
            format="html",
        ),
        *children,
        nodes.raw("", "</details>", format="html"),
    ]


def setup(app):
    app.add_directive("cladec-saliency", SaliencyDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

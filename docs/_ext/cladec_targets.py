"""The ``cladec-targets`` directive: the committed comparison of eq. 1's two targets.

Reads the ``targets.csv`` that ``python -m cladec targets`` wrote
(:mod:`cladec.studies.target_study`), so the page shows the numbers of the file it
ships::

    .. cladec-targets:: results/targets/targets.csv
       :dataset: mnist

Without ``:dataset:`` it renders the run's provenance, collapsed.
"""

from __future__ import annotations

from pathlib import Path

from cladec_saliency import _provenance, _table, collapsed
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from cladec.studies.target_study import read_targets_csv

_DATASETS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def _model(row: dict) -> str:
    if row["model"] == "refAE":
        return "RefAE (baseline)"
    alpha = format(row["alpha"], "g")
    if row["alpha"] == 0:
        return f"ClaDec alpha {alpha} (both targets)"
    return f"ClaDec alpha {alpha}, {'true labels' if row['target'] == 'labels' else 'predictions'}"


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _number(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _dataset_table(rows: list[dict], dataset: str) -> list[str]:
    chosen = [r for r in rows if r["dataset"] == dataset]
    if not chosen:
        raise ValueError(f"no rows for dataset {dataset!r}")
    header = [
        "reconstructions of",
        "misread, read as the prediction",
        "misread, read as the true class",
        "reconstruction loss (SSE)",
        "fidelity",
        "evaluation accuracy",
    ]
    body = [
        [
            _model(r),
            _percent(r["as_predicted"]),
            _percent(r["as_true"]),
            _number(r["reconstruction_loss"], 2),
            _number(r["fidelity"], 4),
            _number(r["evaluation_accuracy"], 4),
        ]
        for r in chosen
    ]
    title = (
        f"{_DATASETS.get(dataset, dataset)} my_dense: the {chosen[0]['n_misread']} test images "
        "the classifier misreads, and the scores over the whole test set"
    )
    return _table(header, body, title)


class TargetsDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"dataset": directives.unchanged_required}

    def run(self):
        path = Path(self.env.srcdir) / self.arguments[0]
        self.env.note_dependency(str(path))
        provenance, rows = read_targets_csv(path)
        dataset = self.options.get("dataset")
        try:
            lines = _dataset_table(rows, dataset) if dataset else _provenance(provenance)
        except ValueError as error:
            raise self.error(f"{path.name}: {error}") from None
        holder = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(path)), self.content_offset, holder)
        return holder.children if dataset else collapsed(holder.children, "the targets study")


def setup(app):
    app.add_directive("cladec-targets", TargetsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

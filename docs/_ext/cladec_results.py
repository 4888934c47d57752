"""The ``cladec-results`` directive: a committed run of ``reproduce``, rendered.

The results page must show the numbers of the CSV it ships, not numbers
copied by hand into reST. The directive reads a ``rows.csv`` written by
``python -m cladec reproduce`` and writes, as reST parsed in place, one part
of the page:

``provenance``
    The run's command, versions, machine, date, status and timings.
``table``
    For one ``:pair: dataset/layer``: ours and the reference, cell by cell,
    cells outside the stated tolerance in bold.
``outside``
    Every judged cell outside tolerance, with the rule it broke.
``curves``
    For one ``:pair:``: the alpha curves of ours, the reference in grey
    (:func:`cladec.studies.curves.alpha_curves`), drawn into ``_generated/`` next
    to the CSV when the CSV is newer than the figure.
``claims``
    The claims of the reference evaluation (:mod:`cladec.studies.claims`): the
    verdict on the reference's numbers and on ours, with our evidence.
``summary``
    Three answers in plain words, each computed from the run and the target
    study: does ClaDec carry more class information than RefAE, where does
    the run differ from the reference, and which reading of the reference
    failed. Its links name sections of the results page.
``verdict``
    The page's opening: per pair, the judged cells within tolerance and the
    claims that hold, on this run and on the reference's own numbers, and
    how many more cells a symmetric band would put outside.
``downloads``
    Download links to each run's committed CSV files.
``cost``
    Per pair, the wall time and the models trained and reused, from the
    ``pair_seconds`` and ``pair_models`` the run recorded.

The provenance part is collapsed (an HTML ``<details>`` block): a reader opens
it to check a run, not to read the results.

Usage::

    .. cladec-results:: results/full/rows.csv
       :part: table
       :pair: mnist/my_dense

Several runs can make one page: give several ``rows.csv`` files, and each
(dataset, layer) pair is taken from the last file that has it. That lets a
page show a run that re-did some pairs with more alphas next to an older run
of the others; the provenance part then lists every run and the pairs it
supplies.

A page that renders many parts of the same runs names them once::

    .. cladec-results-runs:: results/older-run/rows.csv results/full/rows.csv

and every later ``cladec-results`` on that page without arguments uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from cladec.studies.claims import CLAIMS, check_claims
from cladec.studies.layout import EVAL_METRICS, layout_cell
from cladec.studies.reference import (
    ALPHA_GRID,
    RECONSTRUCTION_REL_TOL,
    compare_with_reference,
    load_reference_table,
    rows_from_reference,
)
from cladec.studies.reproduce import PAIRS
from cladec.studies.rows import read_rows_csv

_DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}

_METRIC_NAMES = {
    "total_loss": "total loss",
    "reconstruction_loss": "reconstruction loss",
    "classification_loss": "classification loss",
    "evaluation_accuracy": "evaluation accuracy",
}
# the tables use the glossary's names in full (docs/glossary.rst, "Names used on this site")
_SHORT_NAMES = {
    "total_loss": "total loss",
    "reconstruction_loss": "reconstruction loss",
    "classification_loss": "classification loss",
    "evaluation_accuracy": "evaluation accuracy",
}
_PROVENANCE_ORDER = [
    "status",
    "command",
    "created",
    "profile",
    "wall_time_seconds",
    "pair_seconds",
    "models_trained",
    "models_from_cache",
    "cladec",
    "keras",
    "tensorflow",
    "numpy",
    "python",
    "platform",
    "machine",
    "cpus",
    "seed",
    "comparable_with_reference",
]


def _text(value) -> str:
    """Plain text for inline reST: markup characters are escaped."""
    text = str(value).replace("\\", "\\\\")
    for char in "|*`_":
        text = text.replace(char, "\\" + char)
    return text


def _number(value, metric: str) -> str:
    if value is None:
        return "–"
    if metric == "evaluation_accuracy":
        return f"{value:.4f}"
    return format(value, ".4g")


def _row(rows, column):
    for row in rows:
        if column == "classifier" and row.model == "classifier":
            return row
        if column == "refAE" and row.model == "refAE":
            return row
        if isinstance(column, float) and row.model == "cladec" and row.alpha == column:
            return row
    return None


def _list_table(header: list[str], body: list[list[str]], widths: str = "auto") -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for record in [header, *body]:
        lines.append(f"   * - {record[0]}")
        lines.extend(f"     - {value}" for value in record[1:])
    return [*lines, ""]


def _fields(meta) -> list[str]:
    keys = [k for k in _PROVENANCE_ORDER if k in meta]
    keys += [k for k in meta if k not in keys]
    lines = []
    for key in keys:
        value = meta[key]
        # Command lines stay literal: "--" would otherwise become a dash.
        shown = f"``{value}``" if key == "command" or "--" in str(value) else _text(value)
        lines.append(f":{key.replace('_', ' ')}: {shown}")
    return [*lines, ""]


def _provenance_part(runs) -> list[str]:
    if len(runs) == 1:
        return _fields(runs[0].meta)
    lines = []
    for number, run in enumerate(runs, 1):
        supplied = ", ".join(f"{d} / {lay}" for d, lay in run.pairs) or "none (all superseded)"
        lines += [f"**Run {number}** (``{run.name}``), used for: {_text(supplied)}.", ""]
        lines += _fields(run.meta)
    return lines


def below_band(comparison, rel_tol: float = RECONSTRUCTION_REL_TOL) -> list[dict]:
    """The loss cells within tolerance only because a lower loss never counts against us."""
    return [
        c
        for c in comparison
        if c["within_tolerance"] is True
        and "lower is better" in c["rule"]
        and c["ours"] < c["reference"] - rel_tol * abs(c["reference"]) - 1e-12
    ]


def symmetric_view(comparison) -> str:
    """One paragraph: how many more cells a symmetric band would put outside, and which."""
    below = below_band(comparison)
    if not below:
        return (
            f"Judged symmetrically (a loss more than {RECONSTRUCTION_REL_TOL:.0%} *below* the "
            "reference's counted as outside too), no further cell falls outside."
        )
    groups: dict[tuple, list[dict]] = {}
    for cell in below:
        groups.setdefault((cell["dataset"], cell["layer"], cell["eval"]), []).append(cell)
    parts = []
    for (dataset, layer, metric), cells in groups.items():
        where = ", ".join(
            "RefAE" if c["alpha"] is None else f"alpha = {c['alpha']:g}" for c in cells
        )
        gaps = sorted({round(100 * (c["reference"] - c["ours"]) / c["reference"]) for c in cells})
        span = f"{gaps[0]} %" if len(gaps) == 1 else f"{gaps[0]} to {gaps[-1]} %"
        parts.append(
            f"{_DATASET_NAMES.get(dataset, dataset)} ``{layer}`` {metric.replace('_', ' ')} "
            f"({where}: {span} below)"
        )
    return (
        f"The tolerance counts a lower reconstruction loss as a better reconstruction, never "
        f"against us. Judged symmetrically (a loss more than {RECONSTRUCTION_REL_TOL:.0%} "
        f"*below* the reference's counted as outside too), **{len(below)} more cells fall "
        f"outside**: {'; '.join(parts)}. Our decoders rebuild these better than the "
        "reference's did; 'What differs from the reference run, by design' measures why."
    )


TARGETS_CSV = Path(__file__).resolve().parents[1] / "results" / "targets" / "targets.csv"


def summary_sentences(rows, targets_csv: Path = TARGETS_CSV) -> list[str]:
    """Three plain answers, each computed: class information, where we differ, which reading failed."""
    from cladec.studies.target_study import read_targets_csv

    checks = [
        c for c in check_claims(rows, pairs=PAIRS) if c.key == "cladec_keeps_class_information"
    ]
    clear = [c for c in checks if c.verdict == "holds"]
    names = ", ".join(f"{_DATASET_NAMES[c.dataset]} ``{c.layer}``" for c in clear) or "none"
    comparison = compare_with_reference(rows)
    judged = [c for c in comparison if c["within_tolerance"] is not None]
    outside = [c for c in judged if c["within_tolerance"] is False]
    datasets = sorted({_DATASET_NAMES[c["dataset"]] for c in outside})
    metrics = sorted({c["eval"].replace("_", " ") for c in outside})
    _, targets = read_targets_csv(targets_csv)
    mnist = {(r["model"], r["target"], r["alpha"]): r for r in targets if r["dataset"] == "mnist"}
    refae, labels = mnist[("refAE", "", None)], mnist[("cladec", "labels", 0.99)]
    others = sorted({c.verdict for c in checks if c.verdict != "holds"})
    theirs = {
        (c.dataset, c.layer): c.verdict
        for c in check_claims(load_reference_table(), pairs=PAIRS)
        if c.key == "cladec_keeps_class_information"
    }
    alike = all(theirs[(c.dataset, c.layer)] == c.verdict for c in checks)
    rest = (
        "a fresh classifier reads ClaDec's and RefAE's reconstructions equally well within "
        "the noise"
        if others == ["within noise"]
        else f"the verdicts are: {', '.join(others)}"
    )
    return [
        f"**Does ClaDec carry more class information than RefAE?** Clearly, above two "
        f"standard errors, on {len(clear)} of {len(checks)} pairs ({names}); on the others "
        f"{rest}{', on the reference numbers as on ours' if alike else ''} (claim 2 below).",
        "",
        f"**Where does our run differ from the reference?** {len(outside)} of {len(judged)} "
        f"judged cells fall outside tolerance, all of them {' and '.join(metrics)} on "
        f"{' and '.join(datasets)}, each within "
        f"{max(abs(c['difference']) for c in outside):.3f} of the reference; the reasons are "
        "measured under 'Cells outside tolerance, and why'. Judged symmetrically, "
        f"{len(below_band(comparison))} more cells differ: our ``my_dense`` decoders rebuild "
        "better than the reference's (the paragraph after the next).",
        "",
        "**Which of the reference's readings failed?** \"Misclassified digits are drawn as "
        'the class the classifier chose": the decoder trained with the true labels draws '
        f"MNIST's {refae['n_misread']} misread digits as their true class more often than "
        f"RefAE does ({100 * labels['as_true']:.1f} % against {100 * refae['as_true']:.1f} % "
        "at alpha = 0.99, :ref:`the table of both targets <which-labels>`), so its figures partly correct the classifier "
        "instead of showing its mistakes.",
        "",
    ]


def _verdict_part(rows) -> list[str]:
    comparison = compare_with_reference(rows)
    ours = check_claims(rows, pairs=PAIRS)
    theirs = {
        (c.key, c.dataset, c.layer): c for c in check_claims(load_reference_table(), pairs=PAIRS)
    }
    body, totals = [], [0, 0, 0, 0, 0]
    for pair in PAIRS:
        judged = [
            c
            for c in comparison
            if (c["dataset"], c["layer"]) == pair and c["within_tolerance"] is not None
        ]
        within = sum(c["within_tolerance"] is True for c in judged)
        mine = [c for c in ours if (c.dataset, c.layer) == pair and c.verdict != "not run"]
        holds = sum(c.verdict == "holds" for c in mine)
        ref_holds = sum(theirs[(c.key, *pair)].verdict == "holds" for c in mine)
        if not judged and not mine:
            body.append([f"{pair[0]} / {pair[1]}", "not in this run", "–", "–", "–"])
            continue
        for i, n in enumerate((within, len(judged), holds, len(mine), ref_holds)):
            totals[i] += n
        body.append(
            [
                f"{pair[0]} / {pair[1]}",
                f"{within} of {len(judged)}",
                str(len(judged) - within),
                f"{holds} of {len(mine)}",
                f"{ref_holds} of {len(mine)}",
            ]
        )
    within, judged, holds, checked, ref_holds = totals
    body.append(
        [
            "**all pairs**",
            f"**{within} of {judged}**",
            f"**{judged - within}**",
            f"**{holds} of {checked}**",
            f"**{ref_holds} of {checked}**",
        ]
    )
    lines = [
        f"**{within} of the {judged} judged cells are within tolerance, and {holds} of the "
        f"{checked} claim checks hold** (on the reference's own numbers, {ref_holds} hold; "
        'the others are "within noise" or do not hold, see below).',
        "",
        symmetric_view(comparison),
        "",
    ]
    return lines + _list_table(
        ["pair", "cells within tolerance", "outside", "claims that hold", "(on the reference)"],
        body,
        "25 20 15 20 20",
    )


def _downloads_part(runs, docname_dir: Path) -> list[str]:
    lines = []
    for run in runs:
        folder = run.path.parent
        links = []
        for name in ("rows.csv", "evaluation_result.csv", "comparison.csv"):
            if (folder / name).is_file():
                target = (folder / name).relative_to(docname_dir).as_posix()
                links.append(f":download:`{name} <{target}>`")
        where = folder.relative_to(docname_dir).as_posix()
        lines.append(f"- ``docs/{where}``: {', '.join(links)}")
    return [*lines, ""]


def _pair_numbers(text: str) -> dict:
    """``"mnist/my_dense=3322 mnist/my_conv=4100"`` -> {("mnist", "my_dense"): "3322", ...}."""
    numbers = {}
    for item in str(text or "").split():
        name, _, value = item.partition("=")
        dataset, _, layer = name.partition("/")
        numbers[(dataset, layer)] = value
    return numbers


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s"


def _cost_part(runs) -> list[str]:
    body, totals = [], [0.0, 0, 0]
    for run in runs:
        seconds = _pair_numbers(run.meta.get("pair_seconds"))
        models = _pair_numbers(run.meta.get("pair_models"))
        for pair in run.pairs:
            if pair not in seconds:
                body.append([f"{pair[0]} / {pair[1]}", "not recorded", "–", "–"])
                continue
            trained, _, reused = models.get(pair, "").partition("+")
            totals[0] += float(seconds[pair])
            totals[1] += int(trained or 0)
            totals[2] += int(reused or 0)
            body.append(
                [
                    f"{pair[0]} / {pair[1]}",
                    f"{_duration(float(seconds[pair]))} ({float(seconds[pair]):,.0f} s)",
                    trained or "–",
                    reused or "–",
                ]
            )
    if not body:
        return ["*No pair of this run has finished yet.*", ""]
    body.append(
        [
            "**all pairs**",
            f"**{_duration(totals[0])} ({totals[0]:,.0f} s)**",
            f"**{totals[1]}**",
            f"**{totals[2]}**",
        ]
    )
    return _list_table(
        ["pair", "wall time", "models trained", "models reused (package or cache)"],
        body,
        "25 30 20 25",
    )


def _table_part(rows, pair) -> list[str]:
    dataset, layer = pair
    ours = [r for r in rows if (r.dataset, r.layer) == pair]
    if not ours:
        return [f"*{dataset} / {layer} is not in this run yet.*", ""]
    reference = [
        r for r in rows_from_reference(load_reference_table()) if (r.dataset, r.layer) == pair
    ]
    judged = {
        (c["eval"], c["column"] if c["alpha"] is None else c["alpha"]): c["within_tolerance"]
        for c in compare_with_reference(ours)
    }
    header = [""]
    for metric in EVAL_METRICS:
        header += [_SHORT_NAMES[metric], "(ref.)"]
    header += ["agreement", "fidelity"]
    body = []
    for column in ["classifier", "refAE", *ALPHA_GRID]:
        label = {"classifier": "classifier", "refAE": "RefAE"}.get(column)
        record = [label or f"alpha {column:g}"]
        for metric in EVAL_METRICS:
            text = _number(layout_cell(_row(ours, column), metric), metric)
            if judged.get((metric, column)) is False:
                text = f"**{text}**"
            record += [text, _number(layout_cell(_row(reference, column), metric), metric)]
        row = _row(ours, column)
        for name in ("agreement", "accuracy_on_reconstructions"):
            value = None if row is None else getattr(row, name)
            record.append("–" if value is None else f"{value:.4f}")
        body.append(record)
    return _list_table(header, body)


def _outside_part(rows) -> list[str]:
    outside = [c for c in compare_with_reference(rows) if c["within_tolerance"] is False]
    if not outside:
        return ["Every judged cell of this run is within tolerance.", ""]
    lines = []
    for c in outside:
        column = c["column"] if c["alpha"] is None else f"alpha {c['alpha']:g}"
        lines.append(
            f"- {c['dataset']} / {c['layer']}, {_METRIC_NAMES[c['eval']]}, {column}: "
            f"ours {c['ours']:.4g}, reference {c['reference']:.4g} "
            f"(difference {c['difference']:+.3g}; rule: {_text(c['rule'])})"
        )
    return [*lines, ""]


def _claims_part(rows) -> list[str]:
    ours = {(c.key, c.dataset, c.layer): c for c in check_claims(rows, pairs=PAIRS)}
    theirs = {
        (c.key, c.dataset, c.layer): c for c in check_claims(load_reference_table(), pairs=PAIRS)
    }
    lines = []
    for number, (key, claim) in enumerate(CLAIMS.items(), 1):
        lines += [f"**Claim {number}.** {claim}", ""]
        body = []
        for pair in PAIRS:
            mine, reference = ours[(key, *pair)], theirs[(key, *pair)]
            body.append(
                [
                    f"{pair[0]} / {pair[1]}",
                    reference.verdict,
                    f"**{mine.verdict}**",
                    _text(mine.evidence),
                ]
            )
        lines += _list_table(
            ["pair", "reference run", "this run", "this run's numbers"], body, "20 15 15 50"
        )
    return lines


def _curves_part(rows, pair, csv_path: Path | None, srcdir: Path) -> list[str]:
    dataset, layer = pair
    if csv_path is None or not any((r.dataset, r.layer) == pair for r in rows):
        return []  # the table part says so
    target = csv_path.parent / "_generated" / f"curves_{dataset}_{layer}.png"
    if not target.is_file() or target.stat().st_mtime < csv_path.stat().st_mtime:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from cladec.studies.curves import alpha_curves

        figure = alpha_curves(rows, dataset, layer, reference=load_reference_table())
        target.parent.mkdir(exist_ok=True)
        partial = target.with_suffix(".partial.png")
        figure.savefig(partial, dpi=110, bbox_inches="tight")
        plt.close(figure)
        partial.replace(target)
    return [
        f".. figure:: /{target.relative_to(srcdir).as_posix()}",
        f"   :alt: alpha curves of {dataset} / {layer}, ours and the reference",
        "",
        f"   {dataset} / {layer}: ours in colour, the reference run in grey. The alpha "
        "axis is evenly spaced, not to scale. The bars on our evaluation accuracies are two "
        "binomial standard errors of a 10,000-image test (about 0.005); the spread between "
        "evaluation-classifier seeds measured in the rerun is of the same size (up to 0.008, "
        "under 'Cells outside tolerance, and why'), so gaps inside the bars are noise.",
        "",
    ]


def _parse_pair(text: str) -> tuple[str, str]:
    dataset, sep, layer = text.strip().partition("/")
    if not sep or (dataset, layer) not in PAIRS:
        accepted = ", ".join(f"{d}/{lay}" for d, lay in PAIRS)
        raise ValueError(f"unknown :pair: {text!r}; accepted: {accepted}")
    return dataset, layer


@dataclass
class _Run:
    name: str  # as written in the page
    path: Path
    meta: dict
    pairs: list = field(default_factory=list)  # the pairs this run supplies to the page


def _merge_runs(files) -> tuple[list, list, dict]:
    """Rows of several runs, each pair from the last run that has it; the runs; pair -> path."""
    runs, by_pair = [], {}
    for name, path in files:
        rows, meta = read_rows_csv(path, provenance=True)
        run = _Run(name, Path(path), meta)
        runs.append(run)
        for pair in dict.fromkeys((r.dataset, r.layer) for r in rows):
            by_pair[pair] = (run, [r for r in rows if (r.dataset, r.layer) == pair])
    merged = []
    for pair, (run, rows) in by_pair.items():
        run.pairs.append(pair)
        merged.extend(rows)
    return merged, runs, {pair: run.path for pair, (run, _) in by_pair.items()}


_RUNS_KEY = "cladec_results_runs"  # env.temp_data lives for one document's read


class ResultsRunsDirective(SphinxDirective):
    """Name the ``rows.csv`` files of the page's later ``cladec-results`` once."""

    required_arguments = 1
    optional_arguments = 8

    def run(self):
        self.env.temp_data[_RUNS_KEY] = list(self.arguments)
        return []


class ResultsDirective(SphinxDirective):
    required_arguments = 0  # none: the page's cladec-results-runs
    optional_arguments = 8  # more rows.csv files, merged pair by pair
    option_spec = {
        "part": lambda text: directives.choice(
            text,
            (
                "provenance",
                "table",
                "curves",
                "outside",
                "claims",
                "verdict",
                "summary",
                "downloads",
                "cost",
            ),
        ),
        "pair": directives.unchanged,
    }

    def run(self):
        arguments = self.arguments or self.env.temp_data.get(_RUNS_KEY)
        if not arguments:
            raise self.error(
                "cladec-results needs the rows.csv files of the runs to show: give them as "
                "arguments, or once per page with '.. cladec-results-runs:: FILE ...' above it"
            )
        files = []
        for argument in arguments:
            relative, path = self.env.relfn2path(argument)
            self.env.note_dependency(relative)
            files.append((argument, path))
        rows, runs, sources = _merge_runs(files)
        part = self.options.get("part", "table")
        if part in ("table", "curves"):
            try:
                pair = _parse_pair(self.options.get("pair", ""))
            except ValueError as error:
                raise self.error(str(error)) from None
        if part == "table":
            lines = _table_part(rows, pair)
        elif part == "curves":
            lines = _curves_part(rows, pair, sources.get(pair), Path(self.env.srcdir))
        elif part == "provenance":
            lines = _provenance_part(runs)
        elif part == "cost":
            lines = _cost_part(runs)
        elif part == "downloads":
            lines = _downloads_part(runs, Path(self.env.doc2path(self.env.docname)).parent)
        else:
            parts = {
                "outside": _outside_part,
                "claims": _claims_part,
                "verdict": _verdict_part,
                "summary": summary_sentences,
            }
            lines = parts[part](rows)
        holder = nodes.container()
        self.state.nested_parse(StringList(lines, source=path), self.content_offset, holder)
        if part != "provenance":
            return holder.children
        # Collapsed: a reader opens it to check a run, not to read the results.
        summary = "the command, versions, machine and timings of " + (
            "the run" if len(runs) == 1 else f"each of the {len(runs)} runs"
        )
        return [
            nodes.raw(
                "",
                f'<details class="cladec-provenance"><summary>Show {summary}</summary>',
                format="html",
            ),
            *holder.children,
            nodes.raw("", "</details>", format="html"),
        ]


def setup(app):
    app.add_directive("cladec-results", ResultsDirective)
    app.add_directive("cladec-results-runs", ResultsRunsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

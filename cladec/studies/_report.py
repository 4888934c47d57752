"""What a run of ``reproduce`` did and found, and the lines it prints.

:class:`ReproduceResult` holds the rows, the comparison with the reference and
the files of a run; its :meth:`~ReproduceResult.report` is the closing
summary. :func:`announce` and :func:`pair_summary` are the opening line and
the line after each (dataset, layer). :mod:`cladec.studies.reproduce` runs the
loop and re-exports :class:`ReproduceResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._plan import Plan

__all__ = ["ReproduceResult", "announce", "duration", "pair_summary"]

_NOT_COMPARABLE = (
    "NOTE: profile {name!r} results are NOT comparable with the reference "
    "(small data slices, few epochs{caps}); the files and the comparison are written "
    "for a first look only. Use --profile full for a reproduction."
)


@dataclass
class ReproduceResult:
    """What :func:`run_reproduce` did and found.

    Parameters
    ----------
    rows : list of EvaluationRow
        Our results: per (dataset, layer) the classifier, the RefAE, then one row per alpha.
    table : list of dict
        The rows in the reference layout (:func:`cladec.studies.layout.reference_layout`).
    comparison : list of dict
        Cell by cell (:func:`cladec.studies.reference.compare_with_reference`): ``dataset``,
        ``layer``, ``eval``, ``column``, ``alpha``, ``reference``, ``ours``,
        ``difference``, ``within_tolerance`` (True, False or None when no
        tolerance applies) and ``rule``.
    files : dict
        ``{"rows": Path, "reference_layout": Path, "comparison": Path}``.
    profile : Profile
        The profile the run used (with any ``n_train`` / ``n_test`` cut).
    comparable : bool
        Whether the run is meant to be compared with the reference (the
        ``full`` profile on all the data).
    trained, cached : int
        Models trained in this run and models loaded from the cache:
        classifiers, reference autoencoders, ClaDec decoders and evaluation classifiers.
    seconds : float
        Wall time.
    blocks : list of dict
        Per (dataset, layer): ``dataset``, ``layer``, ``trained``, ``cached``, ``seconds``.
    provenance : dict
        The provenance lines written at the top of the CSV files.
    claims : list of ClaimCheck
        The claims of the reference evaluation checked on these rows
        (:func:`cladec.claims.check_claims`).
    """

    rows: list
    table: list
    comparison: list
    files: dict
    profile: object
    comparable: bool
    trained: int = 0
    cached: int = 0
    seconds: float = 0.0
    blocks: list = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)

    @property
    def within(self) -> list[dict]:
        """Comparison cells within tolerance."""
        return [c for c in self.comparison if c["within_tolerance"] is True]

    @property
    def outside(self) -> list[dict]:
        """Comparison cells outside tolerance."""
        return [c for c in self.comparison if c["within_tolerance"] is False]

    @property
    def untested(self) -> list[dict]:
        """Comparison cells without a tolerance (reported, not judged)."""
        return [c for c in self.comparison if c["within_tolerance"] is None]

    def report(self) -> str:
        """The closing summary: time, models trained and cached, the comparison, the files.

        Returns
        -------
        str
            Several lines, no trailing newline.
        """
        judged = len(self.within) + len(self.outside)
        lines = [
            f"reproduce finished in {duration(self.seconds)}: {self.trained} model(s) trained, "
            f"{self.cached} loaded from the cache ({self.profile.describe()})",
            f"comparison with the reference: {len(self.within)} of {judged} judged cell(s) "
            f"within tolerance, {len(self.outside)} outside; {len(self.untested)} more cell(s) "
            "reported without a tolerance",
            *("  outside: " + describe_cell(cell) for cell in self.outside),
            "claims of the reference evaluation (cladec.claims), on this run:",
            *(
                f"  {c.dataset} / {c.layer}: {c.verdict}: {c.claim} [{c.evidence}]"
                for c in self.claims
            ),
        ]
        if not self.comparable:
            lines.append(not_comparable_note(self.profile, self.provenance.get("caps", "")))
        lines += [f"  {what:<16} {path}" for what, path in self.files.items()]
        return "\n".join(lines)


def describe_cell(cell: dict) -> str:
    """One comparison cell in a line: where, ours, the reference, the difference, the rule."""
    column = cell["column"] if cell["alpha"] is None else f"alpha {cell['column']} %"
    return (
        f"{cell['dataset']} / {cell['layer']} {cell['eval']} [{column}]: ours {cell['ours']:.4g}, "
        f"reference {cell['reference']:.4g}, difference {cell['difference']:+.4g} "
        f"(rule: {cell['rule']})"
    )


def duration(seconds: float) -> str:
    """A wall time for people: ``"42 s"``, ``"12 min 05 s"``, ``"3 h 07 min"``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def not_comparable_note(profile, caps: str) -> str:
    """The warning that a run's numbers are not to be compared with the reference."""
    return _NOT_COMPARABLE.format(name=profile.name, caps=f"; {caps}" if caps else "")


def announce(plan: Plan, say) -> None:
    """Say what the run will do, and that its numbers say nothing if it is not comparable."""
    request = plan.request
    say(
        f"reproduce: {len(plan.pairs)} (dataset, layer) pair(s), alphas "
        f"{' '.join(format(p, 'g') for p in request['percents'])} %, "
        f"{request['profile'].describe()}, output {request['out']}"
    )
    if not plan.comparable:
        say(not_comparable_note(request["profile"], plan.provenance.get("caps", "")))


def pair_summary(block: dict) -> str:
    """The line after one (dataset, layer): what was trained and loaded, or that it was kept."""
    name, layer = block["dataset"], block["layer"]
    if block.get("kept"):
        return f"{name} / {layer}: kept from the earlier run ({duration(block['seconds'])} there)"
    return (
        f"{name} / {layer}: {block['trained']} model(s) trained, {block['cached']} from "
        f"the cache, {duration(block['seconds'])}"
    )

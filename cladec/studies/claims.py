"""The claims of the reference evaluation, checked against a table of results.

The reference run (method.md section 7) supports a handful of statements about
ClaDec: the reference autoencoder keeps more of the input, ClaDec keeps more of
what the classifier needs, the reconstruction loss is flat up to alpha = 0.5
and grows beyond, and the classifier's loss on the reconstructions falls as
alpha grows. :func:`check_claims` turns each of them into a test with a stated
threshold, per (dataset, layer), and reports the numbers it used, so that a
results page or a reader can see at a glance which ones a run supports.

Accuracies are compared with their sampling noise: the difference of two test
accuracies measured on ``n`` images has a standard error of
``sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n)`` (about 0.004 at 0.9 on 10,000
images); a difference within two standard errors is reported as
"within noise", not as a win for either side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .reference import as_rows
from .rows import EvaluationRow

__all__ = [
    "CLAIMS",
    "ClaimCheck",
    "check_claims",
    "claims_report",
]

#: Verdicts a check can reach.
HOLDS = "holds"
FAILS = "does not hold"
NOISE = "within noise"
NOT_RUN = "not run"

#: The claims, by key, as the reference evaluation states them.
CLAIMS: dict[str, str] = {
    "refae_keeps_more_input": (
        "RefAE reconstructs the input better than ClaDec at alpha = 0 (lower reconstruction loss)."
    ),
    "cladec_keeps_class_information": (
        "ClaDec reconstructions (alpha = 0.99) keep more class information than "
        "RefAE ones (higher evaluation accuracy)."
    ),
    "flat_up_to_half": (
        "The reconstruction loss is flat for alpha <= 0.5 (within 10 % of alpha = 0)."
    ),
    "rises_at_099": ("The reconstruction loss rises at alpha = 0.99 (above every alpha <= 0.5)."),
    "explodes_from_0999": (
        "The reconstruction loss explodes for alpha >= 0.999 (at least 3 times alpha = 0)."
    ),
    "classification_loss_falls": (
        "The classifier's loss on the reconstructions falls as alpha grows "
        "(lower at alpha = 0.99 than at alpha = 0)."
    ),
}

_FLAT_TOLERANCE = 0.10
_EXPLODE_FACTOR = 3.0
_NOISE_SIGMAS = 2.0
_DEFAULT_N_TEST = 10_000


@dataclass(frozen=True)
class ClaimCheck:
    """The verdict on one claim for one (dataset, layer).

    Parameters
    ----------
    key : str
        A key of :data:`CLAIMS`.
    claim : str
        The claim in words.
    dataset, layer : str
        Where it was checked.
    verdict : {"holds", "does not hold", "within noise", "not run"}
        "within noise" only for accuracy comparisons whose difference is
        within two standard errors; "not run" when the table lacks a cell
        the check needs.
    evidence : str
        The numbers the verdict rests on.
    """

    key: str
    claim: str
    dataset: str
    layer: str
    verdict: str
    evidence: str


def _fmt(value: float) -> str:
    return format(value, ".4g")


class _Pair:
    """The rows of one (dataset, layer), looked up by model and alpha."""

    def __init__(self, rows: Sequence[EvaluationRow]):
        self.refae = next((r for r in rows if r.model == "refAE"), None)
        self.cladec = {r.alpha: r for r in rows if r.model == "cladec"}

    def value(self, metric: str, alpha: float | None = None, *, refae: bool = False):
        row = self.refae if refae else self.cladec.get(alpha)
        return None if row is None else getattr(row, metric)

    def values(self, metric: str, alphas) -> dict[float, float]:
        found = {a: self.value(metric, a) for a in alphas}
        return {a: v for a, v in found.items() if v is not None}


def _refae_keeps_more_input(pair: _Pair):
    refae = pair.value("reconstruction_loss", refae=True)
    cladec = pair.value("reconstruction_loss", 0.0)
    if refae is None or cladec is None:
        return NOT_RUN, "needs the RefAE and alpha = 0 reconstruction losses"
    ratio = cladec / refae if refae > 0 else math.inf
    verdict = HOLDS if refae < cladec else FAILS
    return verdict, f"RefAE {_fmt(refae)} vs ClaDec {_fmt(cladec)} ({ratio:.1f} times)"


def _accuracy_noise(p1: float, p2: float, n1: int | None, n2: int | None) -> float:
    n1 = n1 or _DEFAULT_N_TEST
    n2 = n2 or _DEFAULT_N_TEST
    return math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def _cladec_keeps_class_information(pair: _Pair):
    row = pair.cladec.get(0.99)
    refae = pair.refae
    if (
        row is None
        or refae is None
        or row.evaluation_accuracy is None
        or refae.evaluation_accuracy is None
    ):
        return NOT_RUN, "needs the evaluation accuracies of RefAE and alpha = 0.99"
    ours, theirs = row.evaluation_accuracy, refae.evaluation_accuracy
    noise = _accuracy_noise(ours, theirs, row.n_test, refae.n_test)
    difference = ours - theirs
    if abs(difference) <= _NOISE_SIGMAS * noise:
        verdict = NOISE
    else:
        verdict = HOLDS if difference > 0 else FAILS
    return verdict, (
        f"ClaDec {ours:.4f} vs RefAE {theirs:.4f}: difference {difference:+.4f}, "
        f"two standard errors {_NOISE_SIGMAS * noise:.4f}"
    )


def _flat_up_to_half(pair: _Pair):
    losses = pair.values("reconstruction_loss", [a for a in pair.cladec if a <= 0.5])
    if 0.0 not in losses or len(losses) < 2:
        return NOT_RUN, "needs alpha = 0 and at least one more alpha <= 0.5"
    base = losses[0.0]
    worst_alpha = max(losses, key=lambda a: abs(losses[a] / base - 1))
    change = losses[worst_alpha] / base - 1
    verdict = HOLDS if abs(change) <= _FLAT_TOLERANCE else FAILS
    return verdict, (
        f"from {_fmt(min(losses.values()))} to {_fmt(max(losses.values()))} over "
        f"{len(losses)} alphas; largest change {change:+.1%} (alpha = {worst_alpha:g})"
    )


def _rises_at_099(pair: _Pair):
    low = pair.values("reconstruction_loss", [a for a in pair.cladec if a <= 0.5])
    high = pair.value("reconstruction_loss", 0.99)
    if not low or high is None:
        return NOT_RUN, "needs alpha = 0.99 and an alpha <= 0.5"
    top = max(low.values())
    verdict = HOLDS if high > top else FAILS
    return verdict, f"{_fmt(high)} at 0.99 vs at most {_fmt(top)} for alpha <= 0.5"


def _explodes_from_0999(pair: _Pair):
    base = pair.value("reconstruction_loss", 0.0)
    high = pair.values("reconstruction_loss", [a for a in pair.cladec if a >= 0.999])
    if base is None or not high:
        return NOT_RUN, "needs alpha = 0 and an alpha >= 0.999"
    smallest = min(high.values())
    factor = smallest / base if base > 0 else math.inf
    verdict = HOLDS if factor >= _EXPLODE_FACTOR else FAILS
    listed = ", ".join(f"{_fmt(v)} ({a:g})" for a, v in sorted(high.items()))
    return verdict, f"{listed} vs {_fmt(base)} at 0; smallest is {factor:.1f} times"


def _classification_loss_falls(pair: _Pair):
    start = pair.value("classification_loss", 0.0)
    end = pair.value("classification_loss", 0.99)
    if start is None or end is None:
        return NOT_RUN, "needs the classification losses at alpha = 0 and 0.99"
    losses = pair.values("classification_loss", sorted(pair.cladec))
    lowest = min(losses, key=losses.get)
    verdict = HOLDS if end < start else FAILS
    return verdict, (
        f"{_fmt(start)} at 0, {_fmt(end)} at 0.99; lowest {_fmt(losses[lowest])} at "
        f"alpha = {lowest:g}"
    )


_CHECKS = {
    "refae_keeps_more_input": _refae_keeps_more_input,
    "cladec_keeps_class_information": _cladec_keeps_class_information,
    "flat_up_to_half": _flat_up_to_half,
    "rises_at_099": _rises_at_099,
    "explodes_from_0999": _explodes_from_0999,
    "classification_loss_falls": _classification_loss_falls,
}


def check_claims(data, *, pairs: Sequence[tuple[str, str]] | None = None) -> list[ClaimCheck]:
    """Check the reference evaluation's claims against a table of results.

    Parameters
    ----------
    data : list of EvaluationRow, reference-layout table, or path-like
        Results, e.g. the rows of :func:`cladec.reproduce.run_reproduce`, a
        ``rows.csv`` it wrote, or the reference table
        (:func:`cladec.reference.load_reference_table`).
    pairs : sequence of (dataset, layer) or None
        Which pairs to check; default every pair in ``data``. A pair without
        rows gives "not run" verdicts (useful for a partial run).

    Returns
    -------
    list of ClaimCheck
        One per claim of :data:`CLAIMS` and pair, grouped by pair in the order
        of ``pairs`` (or of the data).

    Examples
    --------
    >>> from cladec.claims import check_claims
    >>> from cladec.reference import load_reference_table
    >>> checks = check_claims(load_reference_table())
    >>> sorted({c.verdict for c in checks if c.key == "flat_up_to_half"})
    ['holds']
    """
    rows = as_rows(data)
    if pairs is None:
        pairs = list(dict.fromkeys((r.dataset, r.layer) for r in rows))
    checks = []
    for dataset, layer in pairs:
        pair = _Pair([r for r in rows if r.dataset == dataset and r.layer == layer])
        for key, check in _CHECKS.items():
            verdict, evidence = check(pair)
            checks.append(ClaimCheck(key, CLAIMS[key], dataset, layer, verdict, evidence))
    return checks


def claims_report(checks: Sequence[ClaimCheck]) -> str:
    """The checks as plain text, one line per (claim, dataset, layer).

    Parameters
    ----------
    checks : sequence of ClaimCheck
        From :func:`check_claims`.

    Returns
    -------
    str
        Lines ``"<dataset> / <layer>: <verdict>: <claim> [<evidence>]"``.
    """
    return "\n".join(
        f"{c.dataset} / {c.layer}: {c.verdict}: {c.claim} [{c.evidence}]" for c in checks
    )

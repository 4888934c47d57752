"""What stored models cost to train, from their records; no Keras, so the docs build can use it."""

from __future__ import annotations

__all__ = ["training_seconds", "training_time_text", "bundle_costs"]


def training_time_text(meta: dict) -> str:
    """How long a stored model took to train, in words, from its ``meta.json``.

    A sweep member's time is its share of the one pass that trained the whole
    sweep; saying so keeps "698 s" from reading as one model's own cost.

    Parameters
    ----------
    meta : dict
        An entry's ``meta.json`` contents; ``train_seconds`` and
        ``sweep_size`` are read (0 s and 1 when missing).

    Returns
    -------
    str
        E.g. ``"698 s"``, or ``"698 s, its share of a 4-model sweep of 2,792 s"``.
    """
    seconds = float(meta.get("train_seconds", 0.0))
    size = int(meta.get("sweep_size", 1))
    if size <= 1:
        return f"{seconds:,.0f} s"
    return f"{seconds:,.0f} s, its share of a {size}-model sweep of {seconds * size:,.0f} s"


def training_seconds(metas) -> float:
    """What training these stored models cost, counting each sweep they came from once, whole.

    A sweep member records its share of one pass that trained the whole
    sweep (``sweep_size`` models), so adding shares undercounts what training
    them again costs when only some members are used. Members of one sweep
    record the same share and size; each such group counts as one pass of
    ``share * size`` seconds.

    Parameters
    ----------
    metas : iterable of dict
        ``meta.json`` contents (``train_seconds``, ``sweep_size``).

    Returns
    -------
    float
        Seconds.
    """
    passes = {}
    for meta in metas:
        seconds, size = float(meta.get("train_seconds", 0.0)), int(meta.get("sweep_size", 1))
        key = (round(seconds, 3), size) if size > 1 else (id(meta), 1)
        passes[key] = seconds * size
    return float(sum(passes.values()))


def bundle_costs(entries) -> dict:
    """Per kind and in all: how many models a manifest lists and what training them costs.

    Parameters
    ----------
    entries : iterable of dict
        A manifest's entries (``fields``, ``train_seconds``, ``sweep_size``,
        ``weights_bytes``).

    Returns
    -------
    dict
        ``{"models": int, "seconds": float, "bytes": int, "kinds": {kind:
        {"models": int, "seconds": float}}}``, each sweep counted once, whole.
    """
    entries = list(entries)
    kinds: dict[str, list] = {}
    for entry in entries:
        kinds.setdefault(entry["fields"]["kind"], []).append(entry)
    return {
        "models": len(entries),
        "seconds": training_seconds(entries),
        "bytes": sum(int(e.get("weights_bytes", 0)) for e in entries),
        "kinds": {
            kind: {"models": len(group), "seconds": training_seconds(group)}
            for kind, group in sorted(kinds.items())
        },
    }

"""What the three registries (datasets, losses, saliency methods) share: adding one entry."""

from __future__ import annotations

from collections.abc import MutableMapping

from .exceptions import InvalidInputError

__all__ = ["add_entry"]


def add_entry(table: MutableMapping, entry, kind: type, *, replace: bool, what: str, hint: str):
    """Put ``entry`` into ``table`` under ``entry.name``; refuse another type or a taken name.

    Parameters
    ----------
    table : mutable mapping
        The registry, ``{name: entry}``.
    entry : object
        The new entry; must be a ``kind`` with a ``name``.
    kind : type
        What the registry holds (named in the error).
    replace : bool
        Replace an entry of the same name instead of refusing it.
    what : str
        What the registry holds, for messages (``"dataset"``).
    hint : str
        What a user does about a taken name (appended to the error).

    Returns
    -------
    object
        ``entry``.

    Raises
    ------
    InvalidInputError
        If ``entry`` is not a ``kind``, or its name is taken and ``replace``
        is False.
    """
    if not isinstance(entry, kind):
        raise InvalidInputError(
            f"registering a {what} takes a {kind.__name__}; got {type(entry).__name__} {entry!r}"
        )
    if entry.name in table and not replace:
        raise InvalidInputError(
            f"a {what} named {entry.name!r} is registered already (registered: "
            f"{', '.join(map(repr, table))}); {hint}"
        )
    table[entry.name] = entry
    return entry

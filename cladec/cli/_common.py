"""Argument types shared by the command groups of :mod:`cladec.cli`."""

from __future__ import annotations

import argparse

from ..studies._request import ReproduceError, check_count


def argparse_type(check, label: str):
    """Wrap a ``check_*`` function of a reproduce request as an argparse type."""

    def convert(text):
        try:
            return check(text)
        except ReproduceError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = label  # argparse names the type in some messages
    return convert


def positive_int(text):
    return check_count(text, "the count")


def alpha(text):
    from .._inputs import check_alpha

    try:
        return check_alpha(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"alpha {text!r}: {exc}") from None

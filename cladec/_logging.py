"""The library's one logger, ``logging.getLogger("cladec")``.

Training prints one plain line per epoch, and tutorials rely on seeing them,
so the logger writes ``INFO`` lines to standard output by default. The
handler looks ``sys.stdout`` up at each line, so Sphinx-Gallery and Jupyter,
which swap ``sys.stdout``, capture the lines where they belong.

Silence it with ``logging.getLogger("cladec").setLevel(logging.WARNING)``
(or ``verbose=0`` on a call); redirect it with :func:`log_to`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

__all__ = ["logger", "log_to", "reporter"]

logger = logging.getLogger("cladec")


class _CurrentStdout(logging.StreamHandler):
    """A stream handler bound to whatever ``sys.stdout`` is when a line is written."""

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):  # logging.StreamHandler assigns it once; we always follow sys.stdout
        pass


def _default_handler() -> logging.Handler:
    handler = _CurrentStdout()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.set_name("cladec-stdout")
    return handler


def log_to(handler: logging.Handler | None) -> None:
    """Send the library's lines to ``handler`` instead of standard output.

    Parameters
    ----------
    handler : logging.Handler or None
        The new destination; ``None`` restores the default (plain lines on
        standard output). Either way, the lines no longer reach the root logger twice.
    """
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler if handler is not None else _default_handler())


def reporter(verbose) -> Callable[[str], None] | None:
    """Return a function that logs one ``INFO`` line, or ``None`` when ``verbose`` is falsy."""
    if not verbose:
        return None
    return logger.info


if not logger.handlers:
    logger.addHandler(_default_handler())
    logger.setLevel(logging.INFO)
    # Our handler already prints; without this, an application's root handler prints every line again.
    logger.propagate = False

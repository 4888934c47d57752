"""The command line, ``python -m cladec <command>``: one module per command group.

``--help``, ``--version`` and every usage error answer without importing
Keras or TensorFlow: the command functions import what they need.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]

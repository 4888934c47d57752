"""The command line: ``python -m cladec <command>`` (also installed as ``cladec``).

Commands
--------
``cache list``        the trained models in the cache, with what they are and how long they took
``cache clear``       remove every cached model (and nothing that is not one)
``cache export FILE`` write the cache into one hash-checked archive (for a lab of students)
``cache import FILE`` add the models of such an archive to the cache
``explain``           draw the reference grid and difference maps of one layer into a PNG
``pretrained build``  run the tutorials, train what is missing, rewrite the shipped models
``pretrained verify`` re-measure every shipped model on the real test set
``reproduce``         run the reference evaluation and compare with the reference table
``saliency``          compare ClaDec with four saliency methods (the results page's section)
``targets``           measure both targets of eq. 1 (the method page's table)
``info``              versions, settings and the offline data sources found

``--help``, ``--version`` and every usage error answer without importing Keras
or TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from . import cache, explain, pretrained, studies

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The command functions (in cache, explain, pretrained and studies) import the
# modules that need Keras and TensorFlow (store, reproduce, keras itself) inside
# their bodies: importing them takes 3.7 s on two cores (measured with
# `python -X importtime -c "import keras"`), which --help, --version and a usage
# error (0.2 s without them) never pay.


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m cladec`` and its subcommands (builds without TensorFlow).

    Returns
    -------
    argparse.ArgumentParser
        Parsed arguments carry the command to run as ``func``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m cladec",
        description="ClaDec: explain layers of Keras classifiers by decoding their activations.",
    )
    parser.add_argument("--version", action="version", version=f"cladec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    cache.add_cache_parser(commands)
    explain.add_explain_parser(commands)
    pretrained.add_pretrained_parser(commands)
    cache.add_info_parser(commands)
    studies.add_reproduce_parser(commands)
    studies.add_saliency_parser(commands)
    studies.add_targets_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m cladec`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``python -m cladec``.

    Returns
    -------
    int
        0 on success, 1 on a failure such as missing data, 130 when interrupted;
        a usage error exits with status 2 (``SystemExit``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""``python -m cladec``: the command line (see :mod:`cladec.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

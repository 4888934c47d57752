"""The CSV files of the studies: ``# key: value`` provenance lines, a header, the rows.

Every result file cladec writes (result rows, the reference layout, the
comparison with it, the saliency and target studies) starts with provenance
comment lines (:func:`run_provenance`: versions, profile, machine, date), then
holds a plain CSV table, and is written atomically in one go. The private
helpers here write and split such files and format their cells; the modules
of each file's layout use them.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_file
from .._ownership import check_output_file
from ..profiles import get_profile
from ..store.records import versions

__all__ = ["run_provenance"]


def _format_cell(value) -> str:
    """A cell's text: empty for None and NaN, full precision (``repr``) for floats."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _parse_float(text: str) -> float | None:
    """A cell's number: None for an empty cell."""
    text = text.strip()
    return None if text == "" else float(text)


def _write_provenance(handle, provenance: Mapping[str, Any] | None) -> None:
    for key, value in (provenance or {}).items():
        key_text = str(key).replace(":", "_").replace("\n", " ").strip()
        value_text = " ".join(str(value).split())
        handle.write(f"# {key_text}: {value_text}\n")


def _split_provenance(text: str) -> tuple[dict, str]:
    """The ``# key: value`` lines of a file's text as a dict, and the CSV body after them."""
    provenance: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    body_start = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, sep, value = stripped[1:].partition(":")
            if sep:
                provenance[key.strip()] = value.strip()
            body_start = i + 1
        elif stripped == "":
            body_start = i + 1
        else:
            break
    return provenance, "".join(lines[body_start:])


def _write_csv(path, provenance, header, body) -> Path:
    """Provenance comments, a header and the rows, written atomically in one go."""
    buffer = io.StringIO()
    _write_provenance(buffer, provenance)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    path = Path(path)
    check_output_file(path)
    with atomic_file(path, "w") as handle:
        handle.write(buffer.getvalue())
    return path


def run_provenance(profile, **extra) -> dict:
    """Provenance lines for a results file: versions, profile, machine, date.

    Parameters
    ----------
    profile : str or Profile
        The run profile.
    **extra
        More ``key=value`` pairs to record (dataset sizes, seed, command...).

    Returns
    -------
    dict
        str keys and values, in a stable order: ``cladec``, ``keras``,
        ``tensorflow``, ``numpy``, ``python``, ``machine``, ``profile``,
        ``created``, then ``extra``. Pass it to the ``provenance`` argument
        of the CSV writers.
    """
    info = {
        **versions(),
        "profile": get_profile(profile).describe(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    info.update({str(k): str(v) for k, v in extra.items()})
    return info

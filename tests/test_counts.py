"""Counts the docs state by hand are checked against the tree they count."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cladec.config
from cladec._costs import bundle_costs
from cladec.cli.main import __doc__ as COMMANDS_DOC
from cladec.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
WORDS = "zero one two three four five six seven eight nine ten".split()


def _subcommands(parser) -> set[str]:
    [action] = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(action.choices)


def test_the_command_docstring_lists_every_command():
    parser = build_parser()
    listed = set(re.findall(r"^``(\w+)", COMMANDS_DOC, flags=re.M))
    assert listed == _subcommands(parser)


def test_the_settings_are_counted_alike_everywhere():
    source = Path(cladec.config.__file__).read_text()
    read = sorted(set(re.findall(r'environ\.get\("(CLADEC_\w+)"', source)))
    words = WORDS[len(read)].capitalize()
    assert f"{words} variables steer the library" in cladec.config.__doc__
    assert all(f"``{name}``" in cladec.config.__doc__ for name in read)
    page = (ROOT / "docs" / "installation.rst").read_text()
    assert f"{words} environment variables steer ``cladec``" in page
    assert all(f"``{name}``\n" in page for name in read)


def test_the_readme_states_the_shipped_models_training_time():
    manifest = json.loads((ROOT / "cladec" / "pretrained" / "manifest.json").read_text())
    hours, minutes = divmod(round(bundle_costs(manifest["entries"].values())["seconds"] / 60), 60)
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text())
    assert f"every model itself: {hours} h {minutes} min of training here" in readme

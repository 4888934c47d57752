"""The package's layout: every import runs down the layers, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cladec"

# lowest first; a module may import its own layer and the layers before it
LAYERS = [
    (
        "utilities",
        {
            "_version",
            "config",
            "exceptions",
            "_logging",
            "_inputs",
            "_ownership",
            "_atomic",
            "_frozen",
            "_costs",
            "_registry",
            "units",
            "profiles",
            "examples",
        },
    ),
    ("data", {"_data_files", "_data_sources", "dataset_registry", "datasets"}),
    (
        "models",
        {
            "losses",
            "history",
            "_fingerprints",
            "_forward",
            "_cluster",
            "training",
            "reconstructors",
            "architectures",
        },
    ),
    (
        "store",
        {
            "store",
            "store.keys",
            "store.records",
            "store.pretrained",
            "store.cache",
            "store.archive",
        },
    ),
    (
        "method",
        {
            "_layer_explainer",
            "sweep",
            "explainers",
            "refae",
            "classifiers",
            "requirements",
            "explanation",
            "_evaluation",
            "_scores",
            "_side_by_side",
            "metrics",
            "diagnostics",
        },
    ),
    ("teaching", {"plotting", "explorer", "lesson"}),
    ("saliency", {"saliency", "saliency.*"}),
    ("studies", {"studies", "studies.*"}),
    ("command line", {"cli", "cli.*", "__main__", "__init__"}),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _layer_of(module: str) -> int:
    for number, (_, members) in enumerate(LAYERS):
        if module in members or f"{module.split('.')[0]}.*" in members:
            return number
    raise AssertionError(f"{module} is in no layer of tests/test_layout.py: place it")


def _imports(path: Path) -> set[str]:
    """Every cladec module ``path`` imports, at the top or inside a function."""
    module = _module_name(path)
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    if path.name == "__init__.py" and module == "__init__":
        package = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            elif (node.module or "").startswith("cladec."):
                target = node.module.removeprefix("cladec.")
            else:
                continue
            if node.module is None or not target:  # from . import x, y
                found.update(".".join(filter(None, [target, a.name])) for a in node.names)
            else:
                found.add(target)
    return {name for name in found if name}


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_every_import_runs_down_the_layers():
    upward = []
    for path in _modules():
        here = _module_name(path)
        for target in _imports(path):
            if target.split(".")[0] not in {_module_name(p).split(".")[0] for p in _modules()}:
                continue
            if _layer_of(target) > _layer_of(here):
                upward.append(
                    f"{here} ({LAYERS[_layer_of(here)][0]}) imports {target} "
                    f"({LAYERS[_layer_of(target)][0]})"
                )
    assert not upward, "imports that run up:\n" + "\n".join(upward)


@pytest.mark.parametrize("path", _modules(), ids=_module_name)
def test_modules_stay_under_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 500, f"{_module_name(path)} has {lines} lines: split it by concern"


def _code_lines(function: ast.FunctionDef) -> int:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring is not code
    if not body:
        return 0
    return body[-1].end_lineno - body[0].lineno + 1


def test_functions_stay_under_80_lines_of_code():
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if _code_lines(node) > 80:
                    long.append(f"{_module_name(path)}.{node.name}: {_code_lines(node)} lines")
    assert not long, "\n".join(long)

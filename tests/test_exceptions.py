"""One module of exceptions: every error cladec raises on purpose is a CladecError, and keeps its built-in base."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import cladec
from cladec import exceptions

PACKAGE = Path(cladec.__file__).parent


def test_every_exception_is_under_one_base_and_keeps_its_builtin_one():
    classes = [
        value
        for value in vars(exceptions).values()
        if inspect.isclass(value) and value.__module__ == exceptions.__name__
    ]
    assert {c.__name__ for c in classes} == set(exceptions.__all__)
    for cls in classes:
        assert issubclass(cls, exceptions.CladecError | exceptions.CladecWarning), cls
    assert issubclass(exceptions.InvalidInputError, ValueError)
    assert issubclass(exceptions.ArchiveError, ValueError)
    assert issubclass(exceptions.DataSourceError, RuntimeError)
    assert issubclass(exceptions.FolderNotOwned, FileExistsError)
    assert issubclass(exceptions.CollapsedDecoderWarning, RuntimeWarning)


def test_no_module_defines_a_public_exception_of_its_own():
    elsewhere = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "exceptions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & {"Exception", "ValueError", "RuntimeError", "UserWarning", "Warning"}:
                    elsewhere.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    # the data readers' two private signals never leave cladec._data_sources
    assert sorted(elsewhere) == ["_data_files.py: Absent", "_data_files.py: Broken"]


def test_bad_input_is_a_cladec_error_and_still_a_value_error():
    classifier = cladec.build_classifier("perfect")
    with pytest.raises(cladec.InvalidInputError, match="alpha") as caught:
        cladec.ClaDec(classifier, "my_dense", alpha=1.5)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, cladec.CladecError)
    with pytest.raises(ValueError, match="my_conv"):
        cladec.ClaDec(classifier, "no_such_layer")
    with pytest.raises(cladec.CladecError, match="unknown dataset"):
        cladec.load_dataset("no_such_data")
    with pytest.raises(cladec.CladecError, match="uint8"):
        cladec.metrics.predict_labels(classifier, np.zeros((1, 28, 28), np.int32))
    with pytest.raises(RuntimeError, match="not fitted yet") as caught:
        cladec.ClaDec(classifier, "my_dense").reconstruct(np.zeros((1, 28, 28), np.uint8))
    assert isinstance(caught.value, cladec.CladecError)

